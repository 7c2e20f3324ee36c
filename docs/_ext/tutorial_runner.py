"""Sphinx extension: execute the tutorials while the docs are built, show their output, keep their pictures.

* When a page under ``tutorials/`` (or another page matched by ``tutorial_pages``) is read, its
  ```` ```python ```` blocks run in order in one namespace, with ``docs/_generated/<page>/`` as the current
  directory (see :mod:`tutorial_code`).  What each block prints is inserted under it as a text block of class
  ``tutorial-output`` (styled in ``_static/tapegrad.css``), so the numbers on the page are the numbers the
  code gives today.  A block that raises is a build
  warning naming the page and line (an error under ``-W``).
* ``{tutorial-figure} name.svg`` shows a picture that the page's code wrote into its working directory (a
  computation graph, a deconvnet grid).  Nothing generated is committed: the pictures are redrawn on every
  build.  When a picture was not produced (execution switched off, or Graphviz's ``dot`` missing) the page
  says so instead of showing a broken image.
* Executed pages are re-read on every build, so an incremental build never shows an older tapegrad's output.

Config: ``tutorial_execute`` (bool, default True; ``conf.py`` maps ``TAPEGRAD_DOCS_EXECUTE=0`` to False)
and ``tutorial_pages`` (fnmatch patterns of the pages to execute: ``index``, ``tutorials/*``, ``architecture``).
"""

from __future__ import annotations

import shutil
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.directives.patches import Figure
from sphinx.util import logging
from tutorial_code import TutorialError, python_blocks, run_blocks

logger = logging.getLogger(__name__)

GENERATED = "_generated"
EXECUTED = ("index", "tutorials/*", "architecture")  # pages whose code runs


def is_executed(app: Sphinx, docname: str) -> bool:
    if docname == "tutorials/index":  # the list of tutorials: no code of its own
        return False
    return any(fnmatch(docname, p) for p in app.config.tutorial_pages)


def workdir_for(app: Sphinx, docname: str) -> Path:
    return Path(app.srcdir) / GENERATED / docname


def execute_tutorial(app: Sphinx, docname: str, source: list[str]) -> None:
    """``source-read`` handler: run the page's code and splice each block's output in after it."""
    if not is_executed(app, docname) or not app.config.tutorial_execute:
        return
    text = source[0]
    blocks = python_blocks(text)
    if not blocks:
        return
    workdir = workdir_for(app, docname)
    shutil.rmtree(workdir, ignore_errors=True)  # no picture may survive from an older build
    try:
        outputs = run_blocks(blocks, workdir, docname)
    except TutorialError as exc:
        hint = ""
        if isinstance(exc.__cause__, ImportError):
            hint = (" (the tutorials use the test extra too: pip install -e '.[docs,test]'; "
                    "or build without running them: TAPEGRAD_DOCS_EXECUTE=0)")
        logger.warning("tutorial code failed%s: %s", hint, exc, location=docname)
        return
    pieces, start = [], 0
    for block, output in zip(blocks, outputs, strict=True):
        pieces.append(text[start:block.end])
        if output.strip():
            body = output.rstrip("\n").replace("```", "'''")
            pieces.append("\n\n```{code-block} text\n:class: tutorial-output\n\n" + body + "\n```\n")
        start = block.end
    pieces.append(text[start:])
    source[0] = "".join(pieces)


def always_reread(app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """``env-get-outdated`` handler: tutorial output depends on the code, not only on the page's text."""
    return [name for name in env.found_docs if is_executed(app, name)]


class TutorialFigure(Figure):
    """A figure whose file the tutorial's own code wrote into ``_generated/<page>/``."""

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        name = self.arguments[0]
        if env.app.config.tutorial_execute and (workdir_for(env.app, env.docname) / name).is_file():
            self.arguments[0] = f"/{GENERATED}/{env.docname}/{name}"
            return super().run()
        text = (
            f"(The picture {name} is drawn by the code above when the documentation is built with the "
            "tutorials executed; this build did not produce it — see the page's text for what it needs.)"
        )
        return [nodes.paragraph("", "", nodes.emphasis(text, text))]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("tutorial_execute", True, "env", [bool])
    app.add_config_value("tutorial_pages", list(EXECUTED), "env", [list])
    app.connect("source-read", execute_tutorial)
    app.connect("env-get-outdated", always_reread)
    app.add_directive("tutorial-figure", TutorialFigure)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
