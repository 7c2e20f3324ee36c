#!/usr/bin/env bash
# Installs everything the test suite needs, then runs it. This is the README's test command; .ci/run runs it.
#  - Debian's graphviz (the `dot` binary) for the graph-rendering tests, when missing and we may install it;
#  - tapegrad itself (editable) with its `test` extra (pytest, hypothesis, the CPU build of torch==2.13.0) and its
#    `distributed` extra (mpi4py + the MPICH wheel, whose mpiexec runs tests/distributed on loopback, as root too);
#  - then ruff and the whole pytest suite.
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
python3 -m pytest "$@"
