"""The registry of every built-in differentiable op's :class:`OpSpec`, collected from the declarations.

A ``Function`` subclass declares ``spec = OpSpec(...)`` (or a tuple of them); a composite functional declares a
module-level tuple ``SPECS``.  This module imports the op modules of tapegrad (``tapegrad.autograd.ops.*``,
``tapegrad.nn.functional.*``), walks ``Function.__subclasses__()`` recursively and the ``SPECS`` of every
imported ``tapegrad`` module, and refuses two specs of one name (one declaration per op).

>>> from tapegrad.testing import ops
>>> ops.get("conv2d").reference
'torch.nn.functional.conv2d'
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

from tapegrad.autograd import Function
from tapegrad.autograd.opspec import OpSpec

__all__ = ["all_specs", "get", "key", "names", "owner", "refresh"]

_PACKAGES = ("tapegrad.autograd.ops", "tapegrad.nn.functional")
_cache: dict[str, tuple[OpSpec, type | None]] | None = None


def _import_op_modules() -> None:
    for package_name in _PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package_name}.{info.name}")


def _subclasses(cls: type) -> list[type]:
    found, stack = [], [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return found


def _as_tuple(value: Any) -> tuple[OpSpec, ...]:
    specs = value if isinstance(value, (tuple, list)) else (value,)
    for s in specs:
        if not isinstance(s, OpSpec):
            raise TypeError(f"an op's spec must be an OpSpec, got {type(s).__name__}: {s!r}")
    return tuple(specs)


def _collect() -> dict[str, tuple[OpSpec, type | None]]:
    """name -> (spec, owner).  Variants declared together under one name (``sum`` over several ``dim``
    options) are keyed ``sum[0]``, ``sum[1]``...; one name declared in two places is an error."""
    _import_op_modules()
    found: dict[str, tuple[OpSpec, type | None]] = {}
    sites: dict[str, str] = {}

    def add(specs: tuple[OpSpec, ...], owner: type | None, where: str) -> None:
        counts: dict[str, int] = {}
        for spec in specs:
            counts[spec.name] = counts.get(spec.name, 0) + 1
        seen: dict[str, int] = {}
        for spec in specs:
            if sites.get(spec.name, where) != where:
                raise ValueError(f"op spec {spec.name!r} is declared in {sites[spec.name]} and in {where}; "
                                 "one declaration per op")
            sites[spec.name] = where
            key = spec.name
            if counts[spec.name] > 1:
                key = f"{spec.name}[{seen.get(spec.name, 0)}]"
                seen[spec.name] = seen.get(spec.name, 0) + 1
            found[key] = (spec, owner)

    for cls in _subclasses(Function):
        if "spec" in vars(cls) and cls.__module__.startswith("tapegrad."):
            add(_as_tuple(vars(cls)["spec"]), cls, f"{cls.__module__}.{cls.__qualname__}")
    for name, module in sorted(sys.modules.items()):
        if name.startswith("tapegrad.") and module is not None and isinstance(getattr(module, "SPECS", None),
                                                                                 (tuple, list)):
            add(_as_tuple(module.SPECS), None, name)
    return dict(sorted(found.items()))


def _registry() -> dict[str, tuple[OpSpec, type | None]]:
    global _cache
    if _cache is None:
        _cache = _collect()
    return _cache


def refresh() -> None:
    """Collect again (after importing a module that declares more specs)."""
    global _cache
    _cache = None


def all_specs() -> list[OpSpec]:
    """Every registered spec, sorted by name."""
    return [spec for spec, _ in _registry().values()]


def names() -> list[str]:
    return list(_registry())


def get(name: str) -> OpSpec:
    """The spec named ``name`` (``KeyError`` listing the known names otherwise)."""
    try:
        return _registry()[name][0]
    except KeyError:
        raise KeyError(f"no op spec named {name!r}; known: {', '.join(_registry())}") from None


def key(spec: OpSpec) -> str | None:
    """The registry name of ``spec`` (``sum[1]`` for a variant), or None when it is not registered."""
    for name, (registered, _) in _registry().items():
        if registered is spec:
            return name
    return None


def owner(name: str) -> type | None:
    """The ``Function`` class that declares spec ``name`` (its backward is what the mutation check mutates),
    or None for a composite functional."""
    return _registry()[name][1]
