"""``tapegrad.nn.functional`` (imported as ``F``): stateless layers, built on ``tapegrad.autograd`` primitives.

Names, argument order and defaults mirror ``torch.nn.functional``.
"""
