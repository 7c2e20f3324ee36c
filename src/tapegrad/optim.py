"""``tapegrad.optim`` is ``tapegrad.nn.optim`` (as ``torch.optim``): ``from tapegrad.optim import SGD`` and
``tg.optim.lr_scheduler`` name the very same objects, so ``isinstance`` checks and state dicts agree.

The module replaces itself in ``sys.modules`` by ``tapegrad.nn.optim``, and registers that package's submodules
under the ``tapegrad.optim.`` prefix too, so that ``import tapegrad.optim.lr_scheduler`` does not load a second
copy of the file.
"""

import sys

from tapegrad.nn import optim as _optim

for _name, _module in list(sys.modules.items()):
    if _name.startswith("tapegrad.nn.optim."):
        sys.modules["tapegrad.optim." + _name[len("tapegrad.nn.optim."):]] = _module
sys.modules[__name__] = _optim
