"""A sample of the mutation check in CI (the full run is ``python scripts/mutation_check.py``): a 1 % error in
max-pool's and avg-pool's gradient, a dropped max-pool gradient, a transposed conv weight gradient and a dropped
term of cross-entropy's backward must each make the generated checks fail."""

from __future__ import annotations

import pytest
from tapegrad.nn.functional.avg_pooling import AvgPool2d
from tapegrad.nn.functional.conv import Conv2d
from tapegrad.nn.functional.loss import CrossEntropy
from tapegrad.nn.functional.pooling import MaxPool2d

from tapegrad.testing import mutation

SAMPLE = [
    (MaxPool2d, "scale", "gradient 0 x 1.01"),
    (MaxPool2d, "zero", "gradient 0 dropped (zeros)"),
    (AvgPool2d, "scale", "gradient 0 x 1.01"),
    (Conv2d, "transpose", "gradient 1 transposed (last two axes)"),
    (CrossEntropy, "drop",
     "backward: prob * a.sum(axis=1, keepdims=True) - a  ->  prob * a.sum(axis=1, keepdims=True)"),
]


@pytest.mark.parametrize(("cls", "kind", "description"), SAMPLE, ids=lambda v: getattr(v, "__name__", str(v)))
def test_mutant_is_caught(cls: type, kind: str, description: str) -> None:
    specs = mutation.targets()[cls]
    (mutant,) = [m for m in mutation.mutants(cls) if m.kind == kind and m.description == description]
    original = cls.__dict__["backward"]
    mutation.run(mutant, specs, max_examples=8)
    assert cls.__dict__["backward"] is original, "the mutant was not removed"
    assert mutant.applied, f"{description} was never applied on the drawn examples"
    assert mutant.caught, f"the checks of {specs} let a mutant through: {description}"
