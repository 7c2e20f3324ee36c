"""tapegrad's benchmarks: tapegrad and PyTorch side by side, in one process, on the same data.

Run ``python -m benchmarks --help`` from the repository root; see ``benchmarks/README.md``.
"""
