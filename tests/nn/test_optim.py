"""Optimizers and LR schedulers against PyTorch: N steps from identical weights stay together."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tapegrad.autograd import Tensor
from tapegrad.nn import optim

from tapegrad import nn
from tests.support import assert_close

TORCH = {np.float32: torch.float32, np.float64: torch.float64}
STEPS = 8


def _twins(dtype):
    ours = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).to(dtype=dtype)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).to(
        TORCH[dtype]
    )
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def _run(dtype, make_ours, make_theirs, steps=STEPS, scheduler=None):
    ours, theirs = _twins(dtype)
    opt, topt = make_ours(ours), make_theirs(theirs)
    sched = tsched = None
    if scheduler is not None:
        sched, tsched = scheduler[0](opt), scheduler[1](topt)
    rng = np.random.default_rng(0)
    target = np.array([0, 2, 1, 1, 0, 2])
    for _ in range(steps):
        x = rng.standard_normal((6, 4)).astype(dtype)
        opt.zero_grad()
        topt.zero_grad()
        loss = nn.F.cross_entropy(ours(Tensor(x)), target)
        tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(target))
        assert_close(loss, tloss, dtype)
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
        if sched is not None:
            sched.step()
            tsched.step()
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            assert_close(p, tp, dtype, err_msg=name)
    return opt, topt


SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.5, weight_decay=0.01),
    dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    dict(lr=0.1, weight_decay=0.05, maximize=True),
]

ADAM_CONFIGS = [
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", SGD_CONFIGS, ids=str)
def test_sgd_matches_torch(dtype, config):
    _run(
        dtype,
        lambda m: optim.SGD(m.parameters(), **config),
        lambda m: torch.optim.SGD(m.parameters(), **config),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,config", ADAM_CONFIGS, ids=str)
def test_adam_family_matches_torch(dtype, name, config):
    _run(
        dtype,
        lambda m: getattr(optim, name)(m.parameters(), **config),
        lambda m: getattr(torch.optim, name)(m.parameters(), **config),
    )


def test_param_groups_with_their_own_options_match_torch():
    def groups(m):
        return [{"params": m[0].parameters(), "lr": 0.05}, {"params": m[2].parameters(), "weight_decay": 0.2}]

    _run(np.float64, lambda m: optim.Adam(groups(m), lr=0.01), lambda m: torch.optim.Adam(groups(m), lr=0.01))
    _run(
        np.float64,
        lambda m: optim.SGD(groups(m), lr=0.1, momentum=0.9),
        lambda m: torch.optim.SGD(groups(m), lr=0.1, momentum=0.9),
    )


@pytest.mark.parametrize(
    "ours,theirs",
    [
        (
            lambda o: optim.lr_scheduler.StepLR(o, 3, gamma=0.5),
            lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5),
        ),
        (lambda o: optim.lr_scheduler.StepLR(o, 2), lambda o: torch.optim.lr_scheduler.StepLR(o, 2)),
        (
            lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 5),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 5),
        ),
        (
            lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 3, eta_min=0.01),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 3, eta_min=0.01),
        ),
    ],
)
def test_schedulers_match_torch_while_training(ours, theirs):
    _run(
        np.float64,
        lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
        lambda m: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
        scheduler=(ours, theirs),
    )


@pytest.mark.parametrize("T_max,eta_min", [(4, 0.0), (7, 0.001)])
def test_cosine_schedule_over_several_periods_matches_torch(T_max, eta_min):  # noqa: N803
    p, tp = nn.Parameter(np.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = optim.SGD([{"params": [p], "lr": 0.3}], lr=0.1)
    topt = torch.optim.SGD([{"params": [tp], "lr": 0.3}], lr=0.1)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max, eta_min)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max, eta_min)
    for _ in range(3 * T_max + 2):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-10, abs=1e-15)


def test_optimizer_state_dict_resumes_exactly(tmp_path):
    """3 steps, checkpoint (model + optimizer through nn.save/load), 3 more == 6 uninterrupted steps."""

    def train(model, opt, steps, seed):
        rng = np.random.default_rng(seed)
        for _ in range(steps):
            opt.zero_grad()
            nn.F.mse_loss(
                model(Tensor(rng.standard_normal((4, 4)))), Tensor(rng.standard_normal((4, 3)))
            ).backward()
            opt.step()

    def make():
        model = nn.Sequential(nn.Linear(4, 3)).double()
        return model, optim.Adam(model.parameters(), lr=0.05, amsgrad=True)

    model, opt = make()
    start = model.state_dict()
    train(model, opt, 3, 1)
    nn.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.npz")
    train(model, opt, 3, 2)
    resumed, ropt = make()
    state = nn.load(tmp_path / "c.npz")
    resumed.load_state_dict(state["model"])
    ropt.load_state_dict(state["opt"])
    train(resumed, ropt, 3, 2)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key], value)
    uninterrupted, uopt = make()
    uninterrupted.load_state_dict(start)
    train(uninterrupted, uopt, 3, 1)
    train(uninterrupted, uopt, 3, 2)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(uninterrupted.state_dict()[key], value)


def test_torch_optimizer_state_loads_into_ours():
    ours, theirs = _twins(np.float64)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(3, 4, dtype=torch.float64)
    theirs(x).sum().backward()
    topt.step()
    ours.load_state_dict(theirs.state_dict())
    opt = optim.SGD(ours.parameters(), lr=0.5, momentum=0.9)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["lr"] == 0.1
    topt.zero_grad()
    theirs(x).sum().backward()
    topt.step()
    ours(Tensor(x.numpy())).sum().backward()
    opt.step()
    for p, tp in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(p, tp)


def test_zero_grad_and_steps_skip_parameters_without_gradients():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert not np.allclose(a.numpy(), 1.0) and np.all(b.numpy() == 1.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_bad_hyperparameters_are_refused():
    params = [nn.Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD(params, lr=-0.1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.Adam(params, lr=float("nan"))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="epsilon"):
        optim.AdamW(params, eps=-1e-8)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD(params + params, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(params[0], lr=0.1)
