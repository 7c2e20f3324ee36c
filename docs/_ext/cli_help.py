"""Sphinx extension: ``{cli-help} train`` shows ``tapegrad train --help``, generated from the real parser.

The command-line reference is therefore always the parser's own text (``tapegrad.cli.main.build_parser``),
never a hand-copied list of options that drifts.  Without an argument it shows ``tapegrad --help``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

WIDTH = "100"  # argparse wraps to $COLUMNS: fixed, so the page does not depend on the builder's terminal


def help_text(command: str | None) -> str:
    from tapegrad.cli.main import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parser = build_parser()
        if command is None:
            return parser.format_help()
        for action in parser._actions:  # argparse has no public accessor for sub-parsers
            if isinstance(action, argparse._SubParsersAction) and command in action.choices:
                return action.choices[command].format_help()
        raise ValueError(f"tapegrad has no sub-command {command!r}")
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


class CliHelp(SphinxDirective):
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        text = help_text(self.arguments[0] if self.arguments else None)
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("cli-help", CliHelp)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
