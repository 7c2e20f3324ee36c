"""``index.html``: the report's sections as one self-contained page (relative links, no scripts).

The page is rendered by Jinja2 with autoescaping on: every string is text, so a class folder named
``<img src=x onerror=alert(1)>`` or a ``--data`` path with quotes shows as those characters and never runs.
A section's ``text`` is HTML only when it is a ``markupsafe.Markup`` (the project's own fixed markup, with any
data inside it escaped by ``Markup.format`` / ``escape``); a plain string is escaped like everything else.  A
Content-Security-Policy forbids scripts, plugins and remote loads as a second line of defence.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
figure { margin: 1em 0; } figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; max-width: 900px; }
.note { background: #fff4e5; border-left: 4px solid #f0a020; padding: 0.5em 1em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
table.confusion td, table.confusion th { border: 1px solid #ccc; padding: 0.2em 0.8em; text-align: right; }
table.confusion { border-collapse: collapse; }
"""

# images from the report's own folder (file: when opened from disk), inline styles; nothing else at all
CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; "
       "form-action 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                       keep_trailing_newline=True)


def _body(text: Any) -> Markup:
    """A section's text as HTML: Markup is kept (wrapped in <p> unless it is a block), a str is escaped."""
    if not text:
        return Markup("")
    if not isinstance(text, Markup):
        return Markup("<p>{}</p>").format(text)
    return text if text.lstrip().startswith("<") else Markup("<p>{}</p>").format(text)


def write_index(out: Path, sections: list[Any], title: str) -> Path:
    """Write ``out/index.html`` from the sections; a figure whose file is missing is left out."""
    shown = [{"title": s.title, "note": s.note, "body": _body(s.text), "preformatted": s.preformatted,
              "figures": [(f, c) for f, c in s.figures if (out / f).is_file()]} for s in sections]
    page = _environment().get_template("index.html").render(title=title, sections=shown, style=Markup(STYLE),
                                                            csp=CSP)
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


__all__ = ["CSP", "Markup", "escape", "write_index"]
