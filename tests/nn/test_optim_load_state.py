"""``Optimizer.load_state_dict`` checks what it is given at load time (issue 14, defect 7).

Before: a (7,) ``exp_avg`` for a (16, 1, 3, 3) weight was accepted and ``step()`` failed later naming no
parameter.  Now every slot's shape, the groups and the parameter indices are checked first, the message names
the parameter (index, group, shape), and a refused state leaves the optimizer as it was.
"""

from __future__ import annotations

import numpy as np
import pytest
from tapegrad.autograd import Tensor
from tapegrad.autograd.errors import TapegradError
from tapegrad.nn import optim

from tapegrad import nn


def _trained(cls=optim.Adam, **kw):
    model = nn.Sequential(nn.Conv2d(1, 16, 3), nn.Flatten(), nn.Linear(16, 2))
    opt = cls(model.parameters(), lr=0.1, **kw)
    model(Tensor(np.ones((2, 1, 3, 3), np.float32))).sum().backward()
    opt.step()
    return model, opt


def _fresh(cls=optim.Adam, **kw):
    model = nn.Sequential(nn.Conv2d(1, 16, 3), nn.Flatten(), nn.Linear(16, 2))
    return model, cls(model.parameters(), lr=0.1, **kw)


@pytest.mark.parametrize("cls, slot, kw", [(optim.Adam, "exp_avg", {}), (optim.AdamW, "exp_avg_sq", {}),
                                           (optim.SGD, "momentum_buffer", {"momentum": 0.9})])
def test_a_slot_of_the_wrong_shape_is_refused_naming_the_parameter(cls, slot, kw):
    _, opt = _trained(cls, **kw)
    state = opt.state_dict()
    state["state"][0][slot] = np.zeros(7, np.float32)
    _, fresh = _fresh(cls, **kw)
    before = fresh.state_dict()
    with pytest.raises(TapegradError) as info:
        fresh.load_state_dict(state)
    message = str(info.value)
    assert slot in message and "(16, 1, 3, 3)" in message and "(7,)" in message and "parameter 0" in message
    assert fresh.state_dict()["state"] == before["state"] == {}  # nothing half-loaded


def test_unknown_parameter_index_and_duplicate_indices_are_refused():
    _, opt = _trained()
    state = opt.state_dict()
    state["state"][9] = state["state"].pop(0)
    with pytest.raises(TapegradError, match="parameter 9"):
        _fresh()[1].load_state_dict(state)
    state = opt.state_dict()
    state["param_groups"][0]["params"] = [0, 0, 1, 2]
    with pytest.raises(TapegradError, match="more than once"):
        _fresh()[1].load_state_dict(state)


@pytest.mark.parametrize("damage", ["no_groups", "groups_not_list", "state_not_dict", "slot_not_array",
                                    "group_not_dict", "fewer_params"])
def test_a_malformed_state_dict_is_a_clear_error(damage):
    _, opt = _trained()
    state = opt.state_dict()
    if damage == "no_groups":
        del state["param_groups"]
    elif damage == "groups_not_list":
        state["param_groups"] = "adam"
    elif damage == "state_not_dict":
        state["state"] = [1, 2]
    elif damage == "slot_not_array":
        state["state"][0]["exp_avg"] = "zeros"
    elif damage == "group_not_dict":
        state["param_groups"] = [3]
    else:
        state["param_groups"][0]["params"] = [0, 1]
    with pytest.raises(TapegradError, match="load_state_dict"):
        _fresh()[1].load_state_dict(state)


def test_a_good_state_still_loads_and_steps():
    model, opt = _trained()
    fresh_model, fresh = _fresh()
    fresh.load_state_dict(opt.state_dict())
    fresh_model(Tensor(np.ones((2, 1, 3, 3), np.float32))).sum().backward()
    fresh.step()
    assert fresh.state_dict()["state"][0]["step"] == 2
