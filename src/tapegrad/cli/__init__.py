"""The ``tapegrad`` command line: ``demo``, ``train``, ``evaluate``, ``visualize``, ``graph``."""
