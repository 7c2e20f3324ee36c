"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and ``state_dict`` (torch.optim's API).

Updates run on the raw arrays (``param.data``) under ``no_grad``: an optimizer step is never recorded.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np
from tapegrad.autograd import Tensor
from tapegrad.autograd.backend import to_device
from tapegrad.autograd.errors import TapegradError


class Optimizer:
    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of dicts, got a Tensor"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError(
                f"{type(self).__name__}: some parameters appear more than once (in one group or in several)"
            )
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        lr = group.get("lr")
        if lr is None or not lr >= 0.0:  # also rejects NaN
            raise ValueError(f"{type(self).__name__}: invalid learning rate {lr!r} (must be a number >= 0)")
        wd = group.get("weight_decay", 0.0)
        if not wd >= 0.0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay value {wd!r} (must be >= 0)")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._make(p.grad.data * 0, None, 0)

    def step(self) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` with NumPy arrays."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (np.array(to_device(v, "cpu")) if hasattr(v, "shape") else v)
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()``'s output; everything is checked before anything changes.

        Like ``Module.load_state_dict``, a mismatch is found here and names the parameter (its index, group
        and shape), not later in ``step()`` as a broadcasting error about anonymous arrays.
        """
        restored, by_index = self._checked_state(state_dict)
        self.state = {by_index[i]: slots for i, slots in restored.items()}
        for saved, group in zip(state_dict["param_groups"], self.param_groups, strict=True):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(v, list) and k == "betas" else copy.deepcopy(v)

    def _checked_state(self, state_dict: Any) -> tuple[dict[int, dict[str, Any]], dict[int, Tensor]]:
        from ..modules.module import _as_numpy

        name = f"{type(self).__name__}.load_state_dict"

        def fail(message: str) -> TapegradError:
            return TapegradError(f"{name}: {message}")

        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict) \
                or not isinstance(state_dict.get("param_groups"), (list, tuple)):
            raise fail("expected a dict with 'state' (a dict) and 'param_groups' (a list), as state_dict() gives")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise fail(f"got {len(groups)} parameter groups, the optimizer has {len(self.param_groups)}")
        by_index: dict[int, Tensor] = {}
        where: dict[int, int] = {}
        for g, (saved, group) in enumerate(zip(groups, self.param_groups, strict=True)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise fail(f"parameter group {g} must be a dict with a 'params' list of indices")
            if len(saved["params"]) != len(group["params"]):
                raise fail(f"parameter group {g} has {len(saved['params'])} parameters in the state, "
                           f"{len(group['params'])} in the optimizer")
            for i, p in zip(saved["params"], group["params"], strict=True):
                if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                    raise fail(f"parameter group {g} lists {i!r}, not a parameter index")
                if int(i) in by_index:
                    raise fail(f"parameter index {int(i)} appears more than once in the parameter groups")
                by_index[int(i)], where[int(i)] = p, g
        restored: dict[int, dict[str, Any]] = {}
        for key, values in state_dict["state"].items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                raise fail(f"state key {key!r} is not a parameter index") from None
            if index not in by_index:
                raise fail(f"state for parameter {index}, which no parameter group lists")
            p = by_index[index]
            label = f"parameter {index} (group {where[index]}, shape {tuple(p.shape)})"
            if not isinstance(values, dict):
                raise fail(f"the state of {label} must be a dict, got {type(values).__name__}")
            slots: dict[str, Any] = {}
            for slot, v in values.items():
                if hasattr(v, "shape") and (getattr(v, "ndim", 0) > 0 or slot != "step"):
                    if tuple(v.shape) != tuple(p.shape):
                        raise fail(f"{slot} of {label} has shape {tuple(v.shape)}; expected {tuple(p.shape)}")
                    slots[slot] = to_device(np.array(_as_numpy(v), dtype=p.data.dtype), p.device)
                elif hasattr(v, "shape") or isinstance(v, (int, float)) and not isinstance(v, bool):
                    slots[slot] = float(_as_numpy(v)) if hasattr(v, "shape") else v
                else:
                    raise fail(f"{slot} of {label} is a {type(v).__name__}, not an array or a number")
            restored[index] = slots
        return restored, by_index

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"
