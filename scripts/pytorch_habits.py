"""PyTorch habits, written once for a module called ``tg``: run them on tapegrad or, changing only the import line
below to ``import torch as tg``, on PyTorch; tests/scripts/test_pytorch_habits.py runs both and compares.

    python scripts/pytorch_habits.py          # one line per habit: its name and what it computed (JSON)

Every snippet is what a PyTorch user types in their first hour; it returns plain values (lists, numbers,
shapes, booleans) so the two libraries' answers can be compared.  Random draws differ between the libraries
(different generators), so for those only shapes, dtypes, ranges and repeatability are compared.  Snippets
registered with ``needs="house"`` use what issue 15's Tensor/ops part added (the dim/keepdim spellings,
``max(dim=)``, ``size()``, the new activations, ``einsum``).
"""

import json
import sys

import numpy as np

import tapegrad as tg

F = tg.nn.functional
HABITS = []  # (name, function, what it needs beyond the namespace or None)


def habit(needs=None):
    def register(fn):
        HABITS.append((fn.__name__, fn, needs))
        return fn

    return register


@habit()
def tensor_and_backward():
    x = tg.tensor([[1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    return [x.grad.tolist(), list(x.shape), x.dtype == tg.float32, x.requires_grad, y.item(), x.is_leaf,
            y.requires_grad, x.detach().requires_grad, x.numel(), x.dim()]


@habit()
def creation():
    base = tg.tensor([[1.0, 2.0, 3.0]])
    return [tg.zeros(2, 3).tolist(), tg.ones((2,)).tolist(), tg.full((2, 2), 7.0).tolist(), tg.arange(5).tolist(),
            tg.arange(0, 1, 0.25).tolist(), tg.arange(2, 11, 3).tolist(), tg.linspace(0, 1, 5).tolist(),
            tg.eye(3).tolist(), tg.eye(2, 3).tolist(), tg.zeros_like(base).tolist(), tg.ones_like(base).tolist(),
            tg.full_like(base, 2.5).tolist(), list(tg.empty(3, 2).shape), list(tg.empty_like(base).shape)]


@habit()
def dtypes():
    return [tg.zeros(2, dtype=tg.float64).dtype == tg.float64, tg.arange(3).dtype == tg.int64,
            tg.tensor([1, 2]).dtype == tg.int64, tg.tensor([True]).dtype == tg.bool,
            tg.tensor(3.5).dtype == tg.float32, tg.full((2,), 3).dtype == tg.int64,
            tg.ones(2, dtype=tg.int32).dtype == tg.int32, tg.tensor([1.0]).double().dtype == tg.float64,
            tg.tensor([1.5]).long().tolist(), tg.tensor([1]).float().dtype == tg.float32,
            tg.zeros(1, dtype=tg.float16).dtype == tg.half, tg.float == tg.float32, tg.long == tg.int64]


@habit()
def seeded_random():
    tg.manual_seed(0)
    a = tg.randn(3, 4)
    tg.manual_seed(0)
    b = tg.randn(3, 4)
    u = tg.rand(1000)
    r = tg.randint(0, 10, (500,))
    r2 = tg.randint(3, (4, 2))
    like = tg.randn_like(a)
    return [a.tolist() == b.tolist(), list(a.shape), a.dtype == tg.float32, 0.0 <= u.min().item(),
            u.max().item() < 1.0, r.dtype == tg.int64, r.min().item() >= 0, r.max().item() <= 9, list(r2.shape),
            list(like.shape), list(tg.rand_like(a).shape), tg.rand(2, 2, dtype=tg.float64).dtype == tg.float64]


@habit()
def thread_budget():
    before = tg.get_num_threads()
    tg.set_num_threads(1)
    one = tg.get_num_threads()
    tg.set_num_threads(before)
    return [one, tg.get_num_threads() == before, isinstance(before, int), before >= 1]


@habit()
def numpy_bridge():
    a = np.zeros(3)
    shared = tg.from_numpy(a)
    wrapped = tg.as_tensor(a)
    copied = tg.tensor(a)
    a[0] = 5.0
    t = tg.tensor([[1.0, 2.0]])
    return [shared.tolist(), wrapped.tolist(), copied.tolist(), shared.dtype == tg.float64,
            t.numpy().tolist(), isinstance(t.numpy(), np.ndarray), tg.is_tensor(t), tg.is_tensor(a),
            t.detach().numpy().shape == (1, 2)]


@habit()
def grad_modes():
    x = tg.ones(2, requires_grad=True)
    out = []
    with tg.no_grad():
        out.append((x * 2).requires_grad)
        with tg.enable_grad():
            out.append((x * 2).requires_grad)
    with tg.set_grad_enabled(False):
        out.append(tg.is_grad_enabled())
    out.append(tg.is_grad_enabled())
    with tg.inference_mode():
        out.append((x * 2).requires_grad)

    @tg.no_grad()
    def double(t):
        return t * 2

    out.append(double(x).requires_grad)
    tg.set_grad_enabled(False)
    out.append((x * 2).requires_grad)
    tg.set_grad_enabled(True)
    out.append((x * 2).requires_grad)
    return out


@habit()
def join_and_select():
    a, b = tg.tensor([1.0, 5.0, -2.0]), tg.tensor([3.0, 2.0, -1.0])
    m = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    return [tg.cat([a, b]).tolist(), tg.cat([m, m], 1).tolist(), tg.stack([a, b]).tolist(),
            tg.stack([a, b], 1).tolist(), tg.where(a > b, a, b).tolist(), tg.maximum(a, b).tolist(),
            tg.minimum(a, b).tolist(), tg.matmul(m, m).tolist(), (m @ m).tolist(), m.T.tolist(),
            tg.exp(tg.tensor([0.0])).tolist(), tg.tanh(tg.tensor([0.0])).tolist()]


@habit()
def shape_habits():
    x = tg.arange(24).reshape(2, 3, 4)
    return [list(x.view(6, 4).shape), list(x.permute(2, 0, 1).shape), list(x.transpose(0, 1).shape),
            list(x.unsqueeze(0).shape), list(x.reshape(2, 12).unsqueeze(1).squeeze(1).shape),
            list(x.flatten().shape), x[1, 2].tolist(), x[:, 0, 1:3].tolist(), list(x.shape), len(x)]


@habit()
def module_and_optimizer_step():
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.ReLU(), tg.nn.Linear(4, 2))
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x, target = tg.ones(5, 3), tg.tensor([0, 1, 0, 1, 0])
    before = model[0].weight.detach().numpy().copy()
    loss = F.cross_entropy(model(x), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    model.eval()
    with tg.no_grad():
        probs = F.softmax(model(x), dim=1)
    return [sorted(model.state_dict().keys()), sum(p.numel() for p in model.parameters()),
            [list(p.grad.shape) for p in model.parameters()], loss.item() > 0,
            not np.allclose(before, model[0].weight.detach().numpy()), opt.param_groups[0]["lr"],
            list(probs.shape), model.training, round(float(probs.sum().item()), 4)]


@habit()
def conv_net_forward():
    tg.manual_seed(0)
    net = tg.nn.Sequential(tg.nn.Conv2d(1, 4, 3, padding=1), tg.nn.BatchNorm2d(4), tg.nn.ReLU(),
                           tg.nn.MaxPool2d(2), tg.nn.Flatten(), tg.nn.Dropout(0.5), tg.nn.Linear(4 * 4 * 4, 3))
    out = net(tg.randn(2, 1, 8, 8))
    out.sum().backward()
    return [list(out.shape), list(net[0].weight.grad.shape), net[0].weight.requires_grad]


@habit(needs="house")
def dim_and_keepdim():
    x = tg.tensor([[1.0, 4.0, 2.0], [3.0, 0.0, 5.0]])
    return [x.sum(dim=1).tolist(), list(x.sum(dim=1, keepdim=True).shape), x.mean(dim=0).tolist(),
            x.argmax(dim=1).tolist(), x.sum(1).tolist(), x.var(dim=1).tolist(), x.softmax(dim=-1).shape[1],
            x.logsumexp(dim=1).tolist()]


@habit(needs="house")
def max_with_dim():
    x = tg.tensor([[1.0, 4.0, 2.0], [3.0, 0.0, 5.0]])
    values, indices = x.max(dim=1)
    low = x.min(dim=0)
    return [values.tolist(), indices.tolist(), low.values.tolist(), low.indices.tolist(), x.max().item()]


@habit(needs="house")
def size_method():
    x = tg.zeros(2, 3, 4)
    return [list(x.size()), x.size(0), x.size(-1), x.numel(), list(x.shape)]


@habit(needs="house")
def new_activation_functionals():
    x = tg.linspace(-4, 4, 17)
    return [F.relu6(x * 2).tolist(), F.hardswish(x).tolist(), F.hardsigmoid(x).tolist(), F.mish(x).tolist(),
            F.silu(x).tolist(), F.gelu(x).tolist(), F.gelu(x, approximate="tanh").tolist(), F.elu(x).tolist(),
            F.selu(x).tolist(), F.softsign(x).tolist(), F.leaky_relu(x, 0.1).tolist(), x.sign().tolist(),
            tg.sign(x).tolist()]


@habit(needs="house")
def new_activation_modules():
    x = tg.linspace(-4, 4, 9)
    modules = [tg.nn.ReLU6(), tg.nn.Hardswish(), tg.nn.Hardsigmoid(), tg.nn.Mish(), tg.nn.SiLU(), tg.nn.GELU(),
               tg.nn.ELU(), tg.nn.SELU(), tg.nn.Softsign(), tg.nn.LeakyReLU(0.2)]
    return [m(x).tolist() for m in modules]


@habit(needs="house")
def einsum():
    a, b = tg.arange(6.0).reshape(2, 3), tg.arange(12.0).reshape(3, 4)
    return [tg.einsum("ij,jk->ik", a, b).tolist(), tg.einsum("ij->j", a).tolist(), tg.einsum("ii", tg.eye(3)).item()]


def plain(value):
    """Tensors, shapes and NumPy scalars to JSON-able lists and numbers (torch.Size is a tuple)."""
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        return plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def run_all():
    results = {}
    for name, fn, needs in HABITS:
        try:
            results[name] = {"value": plain(fn()), "needs": needs}
        except Exception as exc:  # noqa: BLE001 - each habit's failure is reported, the others still run
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "needs": needs}
    return results


if __name__ == "__main__":
    results = run_all()
    for name, result in results.items():
        print(json.dumps({"habit": name, **result}))
    sys.exit(any("error" in r and r["needs"] is None for r in results.values()))
