"""tapegrad: a small, fast, honest autodiff framework, and a deconvnet to see what a CNN learned.

The layers depend one way: ``tapegrad.viz -> tapegrad.nn -> tapegrad.autograd``.
"""

__version__ = "0.1.0"
