"""Run in a fresh process by ``cases_memory``: peak resident memory of a few training steps of one framework.

``python -m benchmarks.memory_child {tapegrad|torch} BATCH SIZE`` prints one JSON line.  Only the framework
measured is imported (torch's import alone is a few hundred MB of resident memory).  The peak is VmHWM from
/proc/self/status, the kernel's resident high-water mark of this process's address space.  Not
``getrusage().ru_maxrss``: Linux carries that over from the parent across fork+exec, so a child started by a
runner that holds 700 MB reports at least 700 MB.  The baseline is VmRSS after the imports (for tapegrad
including Numba, which its kernels import on first use, as torch's libraries are loaded by ``import torch``),
the model and the batch exist and before the first step, so ``step_mb = peak - baseline`` is the memory the
training step itself needs (activations, tape, gradients, optimizer state, scratch buffers).
"""

from __future__ import annotations

import json
import sys

STEPS = 3


def status_mb(field: str) -> float:
    """A memory line of /proc/self/status (VmRSS, VmHWM) in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(framework: str, batch: int, size: int, threads: int) -> dict[str, float]:
    from benchmarks import model as ref

    x, y = ref.batch(batch, size)
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
        m = ref.torch_model(size)
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        step = ref.torch_step
    else:
        from tapegrad.autograd import Tensor
        from tapegrad.nn import optim

        from benchmarks.machine import set_threads

        set_threads(threads, torch_too=False)
        from tapegrad.autograd.kernels import _compile

        _compile.numba_module()  # the compiled kernels' library is loaded before the baseline, as torch's is
        m = ref.tapegrad_model(size)
        opt = optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        tx, ty = Tensor(x), Tensor(y)
        step = ref.tapegrad_step
    baseline = status_mb("VmRSS")
    for _ in range(STEPS):
        step(m, opt, tx, ty)
    peak = status_mb("VmHWM")
    return {"baseline_mb": baseline, "peak_mb": peak, "step_mb": peak - baseline}


if __name__ == "__main__":
    name, n, s, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(main(name, n, s, t)))
