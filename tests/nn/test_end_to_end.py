"""End to end: a small CNN (conv-relu-pool-conv-relu-pool-linear) and its PyTorch twin, trained side by side
with SGD + momentum on one batch; outputs, losses, gradients and parameters agree at every step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tapegrad.autograd import Tensor

from tapegrad import nn
from tests.support import assert_close

TORCH = {np.float32: torch.float32, np.float64: torch.float64}
STEPS = 5


def _ours():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 2), stride=1),
        nn.ReLU(),
        nn.MaxPool2d(2, stride=1),
        nn.Flatten(),
        nn.Linear(6, 3),
    )


def _theirs():
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, (3, 2), stride=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, stride=1),
        torch.nn.Flatten(),
        torch.nn.Linear(6, 3),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_cnn_trains_in_lockstep_with_torch(dtype):
    ours = _ours().to(dtype=dtype)
    theirs = _theirs().to(TORCH[dtype])
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 8, 7)).astype(dtype)
    target = np.array([0, 1, 2, 1, 0])
    opt = nn.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for step in range(STEPS):
        opt.zero_grad()
        topt.zero_grad()
        out = ours(Tensor(x))
        ref = theirs(torch.tensor(x))
        assert_close(out, ref, dtype, err_msg=f"outputs at step {step}")
        loss = nn.CrossEntropyLoss()(out, target)
        tloss = torch.nn.CrossEntropyLoss()(ref, torch.tensor(target))
        assert_close(loss, tloss, dtype, err_msg=f"loss at step {step}")
        loss.backward()
        tloss.backward()
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            assert_close(p.grad, tp.grad, dtype, err_msg=f"grad of {name} at step {step}")
        opt.step()
        topt.step()
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            assert_close(p, tp, dtype, err_msg=f"{name} after step {step}")
        losses.append(loss.item())
    assert losses[-1] < losses[0]  # it actually learns the batch
