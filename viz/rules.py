"""The projection rule table: what each recorded op does when a signal is walked back down to pixel space.

Zeiler & Fergus's deconvnet is backpropagation over the recorded tape with one rule replaced: at a ReLU the
projected signal is rectified (``relu(g)``) instead of being masked by where the *forward* input was positive.
Every linear op keeps its own vector-Jacobian product, which is exactly the ZF "inverse" of that layer:

* conv2d -> its vjp w.r.t. the input is ``conv_transpose2d`` with the same filters (the deconvolution; the
  bias never reaches the data path, so it is ignored);
* max_pool2d -> its vjp is max-unpooling with the switches recorded in that forward pass (a masked scatter;
  overlapping windows accumulate);
* linear / matmul -> ``W^T``; reshape, flatten, transpose -> their inverses; add/sub -> identity paths;
  batch norm in eval -> multiplication by its affine scale; avg_pool2d, pad, getitem, concatenate -> their
  adjoints.

Guided backpropagation (Springenberg et al., 2015) masks by both: ``g * (x > 0) * (g > 0)``; plain gradient
saliency (Simonyan et al., 2014) is the ordinary backward everywhere.  So the three methods share this table
and differ only at the ReLU.

The table is generated: each ``Function`` declares its ``projection`` kind ("linear", "rectifier",
"leaky_rectifier", "switch" or None) beside its forward and backward, and :data:`KIND_RULES` maps a kind to
its rules.  An op that is neither linear nor a known activation has no agreed projection rule; rather than guessing, the
deconvnet and guided methods raise :class:`NoProjectionRule` naming it.  Users register rules for their own
``Function`` subclasses with :func:`register_rule`.  Saliency is the plain gradient, so it needs no rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tapegrad.autograd import Function, TapegradError
from tapegrad.autograd.function import Context
from tapegrad.autograd.tensor import Tensor

Rule = Callable[..., Any]
METHODS: tuple[str, ...] = ("deconvnet", "guided", "saliency")


class NoProjectionRule(TapegradError, KeyError):
    """An op on the path from the chosen activation to the image has no projection rule for the method."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def gradient(ctx: Context, *grads: Tensor) -> Any:
    """The op's own backward: the exact adjoint of a linear op, the plain gradient of any other."""
    return ctx.function.backward(ctx, *grads)


def deconvnet_relu(ctx: Context, g: Tensor) -> Any:
    """ZF's rectification: the positive part of the projected signal passes, whatever the forward input."""
    return (g.relu(),) + (None,) * (len(ctx.parents) - 1)


def guided_relu(ctx: Context, g: Tensor) -> Any:
    """Guided backprop: the gradient mask (forward input > 0) *and* the deconvnet one (signal > 0)."""
    masked = ctx.function.backward(ctx, g)
    first = masked[0] if isinstance(masked, tuple) else masked
    return (first.relu(),) + (None,) * (len(ctx.parents) - 1)


def _leaky_slope(ctx: Context) -> float:
    for name in ("negative_slope", "slope", "alpha"):
        if hasattr(ctx, name):
            return float(getattr(ctx, name))
    raise NoProjectionRule(
        f"{ctx.name}: cannot find the negative slope on the node to apply the deconvnet rule"
    )


def deconvnet_leaky_relu(ctx: Context, g: Tensor) -> Any:
    """The leaky analogue of ZF's rectification: the projected signal goes through the same leaky ReLU."""
    slope = _leaky_slope(ctx)
    return (g.relu() - (-g).relu() * slope,) + (None,) * (len(ctx.parents) - 1)


def guided_leaky_relu(ctx: Context, g: Tensor) -> Any:
    masked = ctx.function.backward(ctx, g)
    first = masked[0] if isinstance(masked, tuple) else masked
    return deconvnet_leaky_relu(ctx, first)


_TABLE: dict[type, dict[str, Rule]] = {}  # rules registered by users, which win over the declared kind
_NAMED_RULES: dict[str, Rule] = {"gradient": gradient}

# What each declared projection kind (``Function.projection``) does under each method.  The kind is declared on
# the op itself, core and nn alike, so this table is complete by construction: an op that declared None, or
# nothing (a user op), has no rule and the projection raises NoProjectionRule naming it.
KIND_RULES: dict[str, dict[str, Rule]] = {
    "linear": {"deconvnet": gradient, "guided": gradient},
    "switch": {"deconvnet": gradient, "guided": gradient},  # the backward routes through the recorded switches
    "rectifier": {"deconvnet": deconvnet_relu, "guided": guided_relu},
    "leaky_rectifier": {"deconvnet": deconvnet_leaky_relu, "guided": guided_leaky_relu},
}


def register_rule(
    function: type[Function], rule: Rule | str = "gradient", methods: Iterable[str] | str = METHODS
) -> None:
    """Tell the projection methods what to do at ``function``'s nodes.

    Parameters
    ----------
    function
        The ``Function`` subclass (its nodes have ``ctx.function is function``).
    rule
        ``fn(ctx, *grads) -> grads`` (one per forward argument, like a backward), or ``"gradient"`` to use the
        op's own backward (right for any linear op).
    methods
        Which of ``"deconvnet"``, ``"guided"``, ``"saliency"`` the rule is for.
    """
    if isinstance(rule, str):
        if rule not in _NAMED_RULES:
            raise ValueError(
                f"register_rule: unknown rule {rule!r}; give a function or one of {sorted(_NAMED_RULES)}"
            )
        rule = _NAMED_RULES[rule]
    if isinstance(methods, str):
        methods = (methods,)
    entry = _TABLE.setdefault(function, {})
    for method in methods:
        if method not in METHODS:
            raise ValueError(f"register_rule: unknown method {method!r}; expected one of {METHODS}")
        entry[method] = rule


def rule_for(function: type[Function], method: str) -> Rule:
    """The rule for ``function``'s nodes under ``method``; saliency falls back to the plain gradient."""
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; expected one of {METHODS}")
    rule = _TABLE.get(function, {}).get(method)
    if rule is None:
        rule = KIND_RULES.get(getattr(function, "projection", None) or "", {}).get(method)
    if rule is not None:
        return rule
    if method == "saliency":
        return gradient
    raise NoProjectionRule(
        f"{function.__name__}: no {method} projection rule for this op. It is on the path from the chosen "
        f"activation to the image, and it is neither linear nor a known activation, so there is no agreed "
        f"way "
        f"to project through it. If its own backward is the right projection (a linear op), call "
        f"tapegrad.viz.register_rule({function.__name__}, 'gradient', methods=('{method}',)); otherwise pass "
        f"a rule fn(ctx, *grads) -> grads."
    )


def _functions(root: type = Function) -> list[type]:
    found, stack = [], list(root.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def registered() -> dict[str, tuple[str, ...]]:
    """Op name -> methods with a rule: every imported op's declared kind, and the rules users registered."""
    table = {
        cls.__name__: tuple(sorted(KIND_RULES[cls.projection]))
        for cls in _functions()
        if isinstance(cls.projection, str) and cls.projection in KIND_RULES
    }
    table.update({cls.__name__: tuple(sorted(rules)) for cls, rules in _TABLE.items()})
    return table
