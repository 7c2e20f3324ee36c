"""Assert that an HTML or SVG file holds no markup that came from data (html.parser, not regular expressions)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

# every element tapegrad's report template writes; anything else was injected
REPORT_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "section", "p", "ul", "li", "b",
               "a", "img", "figure", "figcaption", "pre", "table", "tr", "th", "td", "small", "code"}
REPORT_ATTRS = {"lang", "charset", "http-equiv", "content", "class", "href", "src", "alt", "name"}


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Collect:
    parser = _Collect()
    parser.feed(page)
    parser.close()
    return parser


def assert_report_is_safe(path: Path, data_strings: list[str] = ()) -> str:
    """Only the template's own tags and attributes, a CSP forbidding scripts, and every string from the data
    present as text (escaped, not interpreted).  Returns the page's text."""
    page = path.read_text(encoding="utf-8")
    parsed = parse(page)
    for tag, attrs in parsed.tags:
        assert tag in REPORT_TAGS, f"{path}: injected <{tag}> element"
        for name, value in attrs:
            assert name in REPORT_ATTRS, f"{path}: injected attribute {name}={value!r} on <{tag}>"
            if name in ("href", "src"):
                assert value and "/" not in value and ":" not in value, f"{path}: link {value!r} leaves the folder"
    csp = [dict(a) for t, a in parsed.tags if t == "meta" and dict(a).get("http-equiv") == "Content-Security-Policy"]
    assert csp and "script-src 'none'" in csp[0]["content"] and "default-src 'none'" in csp[0]["content"]
    text = "".join(parsed.text)
    for s in data_strings:
        assert s in text, f"{path}: {s!r} is not shown as text"
    return text


def assert_svg_is_safe(path: Path) -> None:
    """No element of an SVG written by dot may be a script, a foreign object, an image or a link."""
    for tag, attrs in parse(path.read_text(encoding="utf-8")).tags:
        assert tag not in ("script", "foreignobject", "image", "iframe", "a"), f"{path}: injected <{tag}>"
        for name, _ in attrs:
            assert not name.startswith("on") and "href" not in name, f"{path}: injected {name} on <{tag}>"
