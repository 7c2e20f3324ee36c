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
        from ..modules.module import _as_numpy

        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise TapegradError(
                f"{type(self).__name__}.load_state_dict: got {len(groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for saved, group in zip(groups, self.param_groups, strict=False):
            if len(saved["params"]) != len(group["params"]):
                raise TapegradError(
                    f"{type(self).__name__}.load_state_dict: a group with {len(saved['params'])} "
                    f"parameters does not match one with {len(group['params'])}"
                )
            for i, p in zip(saved["params"], group["params"], strict=False):
                by_index[int(i)] = p
        self.state = {}
        for key, values in state_dict["state"].items():
            p = by_index[int(key)]
            restored = {}
            for name, v in values.items():
                if hasattr(v, "shape") and (getattr(v, "ndim", 0) > 0 or name != "step"):
                    restored[name] = to_device(np.array(_as_numpy(v), dtype=p.data.dtype), p.device)
                elif hasattr(v, "shape"):
                    restored[name] = float(_as_numpy(v))
                else:
                    restored[name] = v
            self.state[p] = restored
        for saved, group in zip(groups, self.param_groups, strict=False):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(v, list) and k == "betas" else copy.deepcopy(v)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"
