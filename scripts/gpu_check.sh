#!/usr/bin/env bash
# The real-GPU check of issue #13 (never run on real hardware yet: no GPU was lent while it was written).
#   bash scripts/gpu_check.sh [python]   (default: python3; use a virtual environment: it pip-installs CuPy and
#                                         tapegrad[test] into that Python)
# 1. finds the CUDA version (nvidia-smi's driver "CUDA Version", else nvcc's release) and installs the matching
#    CuPy wheel (cupy-cuda11x / cupy-cuda12x / cupy-cuda13x) into that Python;
# 2. runs the CuPy tests on the real GPU (TAPEGRAD_EMULATE_CUDA=0): every cuda variant of the device fixture,
#    then the autograd, nn and viz suites in full with new tensors on the GPU (TAPEGRAD_TEST_DEVICE=cuda);
# 3. runs `python -m benchmarks --device cuda --quick` and prints everything, with the GPU's name, to paste
#    into docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python3}"
status=0

echo "== GPU"
# a GPU and its driver first: nothing is installed on a machine without one (a CUDA toolkit alone is not enough)
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q "^GPU"; then
  echo "no NVIDIA GPU visible (nvidia-smi -L lists none): nothing to check, nothing installed" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
cuda=$(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9][0-9]*\.[0-9]*\).*/\1/p' | head -1)
if [ -z "$cuda" ] && command -v nvcc >/dev/null 2>&1; then
  cuda=$(nvcc --version | sed -n 's/.*release \([0-9][0-9]*\.[0-9]*\).*/\1/p' | head -1)
fi
if [ -z "$cuda" ]; then
  echo "the driver reports no CUDA version and there is no nvcc: cannot choose a CuPy wheel" >&2
  exit 1
fi
major=${cuda%%.*}
case "$major" in
  11|12|13) wheel="cupy-cuda${major}x" ;;
  *) echo "CUDA $cuda: no CuPy wheel for it (CuPy ships 11.x, 12.x and 13.x)" >&2; exit 1 ;;
esac
echo "CUDA $cuda -> $wheel"
"$PY" -m pip install -q --disable-pip-version-check "$wheel" || exit 1
"$PY" -m pip install -q --disable-pip-version-check -e ".[test]" || exit 1
"$PY" -c "import cupy; cupy.cuda.runtime.getDeviceCount(); d = cupy.cuda.runtime.getDeviceProperties(0);
print('cupy', cupy.__version__, 'on', d['name'].decode(), 'compute capability', d['major'], d['minor'])" || exit 1

export TAPEGRAD_EMULATE_CUDA=0  # the real CuPy, not the test double
echo "== the cuda variants of the device fixture (real CuPy)"
"$PY" -m pytest -q -p no:cacheprovider tests/autograd tests/nn tests/viz tests/cli -k cuda -rs || status=1
echo "== autograd, nn, viz in full with new tensors on the GPU"
TAPEGRAD_TEST_DEVICE=cuda "$PY" -m pytest -q -p no:cacheprovider tests/autograd tests/nn tests/viz -rs || status=1

echo "== benchmarks on the GPU (quick)"
if "$PY" -m benchmarks --help 2>/dev/null | grep -q -- "--device"; then
  "$PY" -m benchmarks --device cuda --quick --markdown /dev/stdout || status=1
else
  echo "benchmarks have no --device option yet (benchmarks/run.py): no GPU timings" >&2
  status=1
fi
echo "== done: $( [ $status = 0 ] && echo all passed || echo SOMETHING FAILED ) ($(date -u '+%Y-%m-%d %H:%M UTC'))"
exit $status
