#!/usr/bin/env bash
# Installs everything the test suite needs, then runs it. This is the README's test command; .ci/run runs it.
#  - Debian's graphviz (the `dot` binary) for the graph-rendering tests, when missing and we may install it;
#  - tapegrad itself (editable) with its `test` extra (pytest, hypothesis, the CPU build of torch==2.13.0) and its
#    `distributed` extra (mpi4py + the MPICH wheel, whose mpiexec runs tests/distributed on loopback, as root too);
#  - then ruff and the whole pytest suite, then autograd/nn/viz again on the (emulated) GPU device,
#    and nn/viz again on the NumPy kernels (TAPEGRAD_KERNELS=numpy).
# Each pass runs on every core through pytest-xdist (TAPEGRAD_TEST_WORKERS: how many processes, default auto, at
# most 4): most of a cold run is Numba compiling kernels (the kernel tests alone ask for 125 specialisations,
# 195 s cold against 9 s warm), one process per core; the first pass took 459 s on one process and 265 s on two
# (2-core machine, empty kernel cache, 2026-12-02).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dot >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  else
    echo "note: graphviz's 'dot' is not installed; graph-rendering tests will be skipped" >&2
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test,distributed]"  # distributed: the mpiexec tests
python3 -m ruff check .
workers=(-n "${TAPEGRAD_TEST_WORKERS:-auto}" --maxprocesses=4)
python3 -m pytest "${workers[@]}" "$@"
# The device pass (docs/tutorials/gpu.md): autograd, nn and viz once more with new tensors on the device 'cuda',
# the emulated CuPy here (tests/conftest.py sets TAPEGRAD_EMULATE_CUDA=1). TAPEGRAD_DEVICE_PASS=0 leaves it out.
if [ "${TAPEGRAD_DEVICE_PASS:-1}" != 0 ]; then
  TAPEGRAD_TEST_DEVICE=cuda python3 -m pytest "${workers[@]}" tests/autograd tests/nn tests/viz
fi
# The nn and viz tests once more on the NumPy kernels (the run above used the compiled ones, the default):
# both kernel sets must pass (issue 11).  Skipped when arguments pick a subset.
if [ $# -eq 0 ]; then
  TAPEGRAD_KERNELS=numpy python3 -m pytest "${workers[@]}" -p no:cacheprovider tests/nn tests/viz
fi
