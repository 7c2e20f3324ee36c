"""Sphinx configuration for the tapegrad documentation.

Build it with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` and open
``docs/_build/html/index.html``.  The tutorials' code is executed while the pages are read (see
``_ext/tutorial_runner.py``): its printed output is shown under each block and the pictures it draws
(computation graphs, deconvnet grids) are generated into ``docs/_generated/`` (git-ignored), so the pages
can never go stale.
Set ``TAPEGRAD_DOCS_EXECUTE=0`` for a quick build that skips running them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import tapegrad  # noqa: E402 - the installed package (pip install -e .) is what is documented

project = "tapegrad"
author = "the tapegrad authors"
copyright = "tapegrad authors, MIT licence"  # noqa: A001 - Sphinx's name
release = tapegrad.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "myst_parser",
    "tutorial_runner",
    "cli_help",
    "api_groups",
    "op_coverage",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "_ext", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_default_options = {
    "undoc-members": True,  # list every public name, documented or not (members are asked for explicitly)
    "show-inheritance": True,
}
autodoc_member_order = "groupwise"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

tutorial_execute = os.environ.get("TAPEGRAD_DOCS_EXECUTE", "1") != "0"

html_theme = "alabaster"
html_title = f"tapegrad {release}"
html_theme_options = {
    "description": "Tape-based autodiff on NumPy/CuPy, and a deconvnet to see what a CNN learned.",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_static_path = ["_static"]
html_css_files = ["tapegrad.css"]
