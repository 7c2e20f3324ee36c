"""Maps the root folders ``autograd/``, ``nn/``, ``viz/`` onto ``tapegrad.autograd``, ``tapegrad.nn``, ``tapegrad.viz``.

The folders sit at the repository root (short paths, one idea per folder) but must never install as bare top-level
``autograd`` or ``nn`` packages: PyPI's ``autograd`` exists.  The mapping is computed here so that new subpackages
are picked up without editing a list by hand.
"""

from setuptools import find_packages, setup

ROOT_PACKAGES = ("autograd", "nn", "viz")

package_dir = {"tapegrad": "src/tapegrad"}
packages = find_packages("src")
for root in ROOT_PACKAGES:
    package_dir[f"tapegrad.{root}"] = root
    packages.append(f"tapegrad.{root}")
    packages += [f"tapegrad.{root}.{sub}" for sub in find_packages(root)]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={"tapegrad.nn.data": ["*.npz", "*.txt", "*.md"], "tapegrad.experiment": ["templates/*.html"]},
    include_package_data=True,
)
