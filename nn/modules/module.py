"""``Module``: the base class of layers — registers parameters, buffers and sub-modules, runs hooks.

Mirrors ``torch.nn.Module``: attribute assignment registers a ``Parameter`` or a ``Module``; ``state_dict()``
returns NumPy arrays (so it saves with ``tapegrad.nn.save`` and loads into PyTorch via ``torch.from_numpy``)
and ``load_state_dict`` accepts NumPy arrays, tapegrad Tensors or PyTorch tensors.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np
from tapegrad.autograd import Tensor
from tapegrad.autograd.backend import is_gpu_array, normalize_device, to_device
from tapegrad.autograd.errors import TapegradError

from .parameter import Parameter


class StateDictError(TapegradError, RuntimeError):
    """``load_state_dict`` found missing, unexpected or mis-shaped entries."""


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class RemovableHandle:
    """Returned by ``register_*hook``: ``handle.remove()`` (or leaving a ``with`` block) removes the hook."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Any]) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _as_numpy(value: Any) -> np.ndarray:
    """A NumPy array from a NumPy array, a tapegrad Tensor, a torch tensor (torch not imported) or a list."""
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):  # torch.Tensor
        return value.detach().cpu().numpy()
    if is_gpu_array(value):
        return value.get()
    return np.asarray(value)


class Module:
    """Base class of every layer.  Subclasses set attributes in ``__init__`` and define ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter '{name}' (Parameter or None)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to child module '{name}' (Module or None)"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                value = Tensor(value)
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: '{name}' must be a Parameter or None, got {type(param).__name__}"
            )
        if "." in name or not name:
            raise KeyError(f"register_parameter: invalid name {name!r}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """A tensor that is state but not learnable (e.g. BatchNorm's running stats); saved in state_dict."""
        if "." in name or not name:
            raise KeyError(f"register_buffer: invalid name {name!r}")
        self._forget(name)
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module")
        if "." in name or not name:
            raise KeyError(f"add_module: invalid name {name!r}")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ----------------------------------------------------------------- traversal
    def named_modules(self, memo: set[int] | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, store: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Each parameter once (a shared one under its first name), in registration order."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----------------------------------------------------------------- modes and devices
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``.grad = None``, PyTorch's default)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._make(p.grad.data * 0, None, 0)

    def _apply_data(self, fn: Callable[[Any], Any], floating_only: bool = False) -> Module:
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None or (floating_only and t.data.dtype.kind != "f"):
                        continue
                    t.data = fn(t.data)
                    if t.grad is not None:
                        t.grad = Tensor._make(fn(t.grad.data), None, 0)
        return self

    def to(self, device: Any = None, dtype: Any = None) -> Module:
        """Move parameters and buffers (in place, like PyTorch) to ``device`` and/or floating ``dtype``."""
        if isinstance(device, (type, np.dtype)) or (isinstance(device, str) and device.startswith("float")):
            device, dtype = None, device
        if device is not None:
            target = normalize_device(device)
            self._apply_data(lambda a: to_device(a, target))
        if dtype is not None:
            dt = np.dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"Module.to: only floating dtypes are allowed, got {dt}")
            self._apply_data(lambda a: a.astype(dt), floating_only=True)
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self) -> Module:
        return self.to("cuda")

    def double(self) -> Module:
        return self.to(dtype=np.float64)

    def float(self) -> Module:
        return self.to(dtype=np.float32)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- state
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by dotted name, as NumPy arrays (copies, on the CPU)."""
        out: OrderedDict[str, Any] = OrderedDict()
        for module_prefix, module in self.named_modules(prefix=prefix):
            head = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[head + name] = p if keep_vars else p.numpy().copy()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[head + name] = b if keep_vars else b.numpy().copy()
        return out

    def _state_targets(self) -> OrderedDict[str, Tensor]:
        return self.state_dict(keep_vars=True)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and buffers in place.

        Values may be NumPy arrays, tapegrad Tensors or PyTorch tensors; they are cast to each target's dtype
        and moved to its device.  Mis-shaped entries are always an error; missing and unexpected keys are
        an error when ``strict`` (otherwise they are returned).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}"
            )
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems = []
        converted = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = _as_numpy(state_dict[key])
            if tuple(value.shape) != tuple(target.shape):
                problems.append(
                    f"size mismatch for {key}: copying a value of shape {tuple(value.shape)}, "
                    f"the parameter in the current model has shape {tuple(target.shape)}"
                )
                continue
            converted[key] = value
        if strict:
            if missing:
                problems.insert(
                    0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + "."
                )
            if unexpected:
                problems.insert(
                    1 if missing else 0,
                    "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".",
                )
        if problems:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems)
            )
        for key, value in converted.items():
            target = targets[key]
            array = to_device(np.array(value, dtype=target.data.dtype), target.device)
            if target.data.shape == array.shape and getattr(target.data.flags, "writeable", True):
                target.data[...] = array
            else:
                target.data = array
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- hooks
    def register_forward_hook(self, hook: Callable[[Module, tuple[Any, ...], Any], Any]) -> RemovableHandle:
        """``hook(module, inputs, output)`` after forward; a non-None return value replaces the output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple[Any, ...]], Any]) -> RemovableHandle:
        """``hook(module, inputs)`` before forward; a non-None result (tuple or value) replaces inputs."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ----------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        head = self._get_name() + "("
        if not lines:
            return head + ")"
        if len(lines) == 1 and not self._modules:
            return head + lines[0] + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
