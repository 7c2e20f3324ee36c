"""The documentation builds warning-free (``-W``), from a copy of ``docs/`` so the checkout is left untouched.

Needs the ``docs`` extra (``sphinx``, ``myst-parser``); skipped, saying so, when they are not installed.
The build executes the tutorials too (that is how their pictures are drawn), so a tutorial that fails is
also a build failure here.
"""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .pages import DOCS

pytest.importorskip("sphinx", reason="sphinx is not installed (pip install -e '.[docs]')")
pytest.importorskip("myst_parser", reason="myst-parser is not installed (pip install -e '.[docs]')")


# Each documented module and the API page that must describe every one of its public names.
API_PAGES = {
    "tapegrad.autograd": "api/autograd.html",
    "tapegrad.autograd.testing": "api/autograd.html",
    "tapegrad.nn": "api/nn.html",
    "tapegrad.nn.init": "api/nn.html",
    "tapegrad.nn.functional": "api/nn_functional.html",
    "tapegrad.nn.optim": "api/nn_optim.html",
    "tapegrad.nn.optim.lr_scheduler": "api/nn_optim.html",
    "tapegrad.nn.data": "api/nn_data.html",
    "tapegrad.nn.data.transforms": "api/nn_data.html",
    "tapegrad.viz": "api/viz.html",
    "tapegrad.testing": "api/testing.html",
    "tapegrad.distributed": "api/distributed.html",
    "tapegrad.nn.parallel": "api/distributed.html",
}


def public_names(module_name: str) -> list[str]:
    """``__all__`` (or, without one, the public functions and classes defined in the module or its
    submodules), less the submodules themselves."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n for n, v in vars(module).items()
            if not n.startswith("_") and callable(v) and getattr(v, "__module__", "").startswith(module_name)
        ]
    return [n for n in names if not inspect.ismodule(getattr(module, n))]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("docs")
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "_generated", "__pycache__"))
    # pages include source files by path (architecture.md shows the Softsign op): the same layout beside the copy
    shutil.copytree(DOCS.parent / "autograd", tmp_path / "autograd", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "html"
    env = {**os.environ, "TAPEGRAD_DOCS_EXECUTE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(source), str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, f"sphinx failed:\n{result.stdout}\n{result.stderr}"
    return out


def test_docs_build_without_warnings(built_site: Path) -> None:
    pages = {p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html")}
    expected = ["index.html", "architecture.html", "contributing.html", "changelog.html", "cli.html",
                *API_PAGES.values()]
    tutorials = [f"tutorials/{p.stem}.html" for p in (DOCS / "tutorials").glob("*.md")]
    for name in [*expected, *tutorials]:
        assert name in pages, f"{name} was not built; built: {sorted(pages)}"


@pytest.mark.parametrize("module_name", sorted(API_PAGES))
def test_every_public_name_is_in_the_api_reference(built_site: Path, module_name: str) -> None:
    html = (built_site / API_PAGES[module_name]).read_text(encoding="utf-8")
    missing = [n for n in public_names(module_name) if f'id="{module_name}.{n}"' not in html]
    assert not missing, f"{API_PAGES[module_name]} does not document {module_name}: {missing}"


def test_tutorial_output_is_on_the_page(built_site: Path) -> None:
    """The build ran the tutorials: what their code printed is shown under it."""
    html = (built_site / "tutorials" / "property_testing.html").read_text(encoding="utf-8")
    assert "tutorial-output" in html
    assert "first order : True" in html


def test_op_coverage_table_is_generated_from_the_registry(built_site: Path) -> None:
    from tapegrad.testing import ops

    html = (built_site / "op_coverage.html").read_text(encoding="utf-8")
    assert "op-coverage" in html and "deconvnet rule" in html
    missing = [name for name in ops.names() if f"<p>{name}</p>" not in html]
    assert not missing, f"op_coverage.html lacks rows for {missing}"


def test_tutorial_pictures_are_generated(built_site: Path) -> None:
    """Pictures drawn by the tutorials' code (Pillow grids always; graphs when Graphviz's dot exists)."""
    images = {p.name for p in (built_site / "_images").iterdir()}
    expected = {"methods.png", "top9_conv2.png", "occlusion.png", "filters_conv1.png"}
    if shutil.which("dot"):
        expected |= {"worked_example.svg", "spiralnet.svg", "second_order.svg"}
    assert expected <= images, f"missing pictures: {sorted(expected - images)}"
