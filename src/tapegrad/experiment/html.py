"""``index.html``: the report's sections as one self-contained page (relative links, no scripts)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

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


def write_index(out: Path, sections: list[Any], title: str) -> Path:
    """Write ``out/index.html`` from the sections; a figure whose file is missing is left out."""
    parts = [f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"]
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>\n")
        if section.note:
            parts.append(f"<p class='note'>{html.escape(section.note)}</p>\n")
        if section.text:
            body = section.text if section.text.lstrip().startswith("<") else f"<p>{section.text}</p>"
            parts.append(body + "\n")
        if section.preformatted:
            parts.append(f"<pre>{html.escape(section.preformatted)}</pre>\n")
        for file, caption in section.figures:
            if not (out / file).is_file():
                continue
            parts.append(f"<figure><a href='{html.escape(file)}'><img src='{html.escape(file)}' "
                         f"alt='{html.escape(caption[:80])}'></a><figcaption>{html.escape(caption)}"
                         "</figcaption></figure>\n")
        parts.append("</section>\n")
    parts.append("<p><small>Written by <code>tapegrad</code>. Fashion-MNIST images (c) Zalando SE, MIT "
                 "licence.</small></p></body></html>\n")
    path = out / "index.html"
    path.write_text("".join(parts), encoding="utf-8")
    return path
