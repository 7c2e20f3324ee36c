"""``tapegrad``: the command line.  ``main(argv) -> exit status``.

Only the standard library is imported at the top, so that ``--help`` and usage errors answer at once.
Bad arguments exit with status 2 (argparse's usage line); bad data, a missing file or any tapegrad error
print ``tapegrad: error: ...`` (one line, or the whole of a multi-line message) and exit with status 1, never
a traceback; an interrupted run exits with 130.  docs/cli.md lists what each sub-command refuses.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

DEMO_OUT = "runs/demo"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _threads_count(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"must be 0 (leave the thread settings as they are) or a number of "
                                         f"threads from 1 to 1024, got {text}")
    return value


def _image_size(text: str) -> int:
    value = int(text)
    if not 8 <= value <= 4096:  # 4096^2 x 3 floats per image is already 200 MB
        raise argparse.ArgumentTypeError(f"must be between 8 and 4096 pixels, got {text}")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to compute (default cpu)")
    p.add_argument("--threads", type=_threads_count, default=None,
                   help="threads for tapegrad's kernels (default: TAPEGRAD_NUM_THREADS, else OMP_NUM_THREADS, else the "
                   "cores up to 8); "
                   "BLAS runs one thread per call, faster for this small network; 0 = leave both as they are")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--distributed", action="store_true",
                   help="run as one rank of an MPI job (automatic under mpiexec/srun with several ranks)")


def _viz_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--viz-channels", type=_positive, default=8,
                   help="feature maps per layer in the top-9 grids (default 8)")
    p.add_argument("--top-images", type=_positive, default=None,
                   help="images scanned for the top activations (default: the whole held-out set)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tapegrad", description=(
        "Train a small CNN and see what it learned (Zeiler & Fergus deconvnet), on NumPy."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="the whole experiment in one command: train, evaluate, write a report",
                          description="Train the reference CNN on the embedded shirt-vs-not-shirt data set, "
                          "evaluate it, and write an HTML report with the visualisations.")
    demo.add_argument("--out", default=DEMO_OUT, help=f"report folder (default {DEMO_OUT})")
    demo.add_argument("--epochs", type=_positive, default=None, help="training epochs (default 25)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--limit", type=_positive, default=None,
                      help="use only N training images and at most N validation/test images (a quick check)")
    demo.add_argument("--image-size", type=_image_size, default=None, help="resize the images (default 28)")
    demo.add_argument("--overwrite", action="store_true",
                      help="replace a run in --out that is not the demo's (its own earlier output is replaced "
                      "anyway)")
    _viz_options(demo)
    _common(demo)

    train = sub.add_parser("train", help="train on the embedded set, Fashion-MNIST or a folder of images",
                           description="Train the reference CNN. DATA is 'embedded', 'fashion-mnist' or a "
                           "folder with one sub-folder per class (or train/ val/ test/ folders of such).")
    train.add_argument("--data", default="embedded", help="embedded | fashion-mnist | DIR (default embedded)")
    train.add_argument("--image-size", type=_image_size, default=None,
                       help="resize images to N x N (default: 28 for Fashion-MNIST data, 224 for folders)")
    train.add_argument("--channels", type=int, choices=(1, 3), default=None,
                       help="1 = grey, 3 = colour (default: 1 for Fashion-MNIST, 3 for folders)")
    train.add_argument("--epochs", type=_positive, default=None, help="epochs (default 25)")
    train.add_argument("--batch-size", type=_positive, default=None,
                       help="batch size per process (default 32); under mpiexec -n N the global batch is "
                       "N x this")
    train.add_argument("--lr", type=float, default=None, help="learning rate (default 3e-3)")
    train.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default=None, help="default adamw")
    train.add_argument("--weight-decay", type=float, default=None)
    train.add_argument("--augment", choices=("none", "flip", "crop", "flip+crop"), default=None,
                       help="training augmentation (default flip)")
    train.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    train.add_argument("--limit", type=_positive, default=None, help="use only the first N training images")
    train.add_argument("--resume", metavar="CKPT", default=None,
                       help="continue the run saved in CKPT (its settings are used; --epochs may extend it)")
    train.add_argument("--out", default=None, help="output folder (default runs/train, or the checkpoint's)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the run (checkpoint and report) already in --out; without it train refuses "
                       "such a folder unless --resume continues that run")
    train.add_argument("--report", action="store_true", help="also write the HTML report with visualisations")
    _viz_options(train)
    _common(train)

    evaluate = sub.add_parser("evaluate", help="accuracy of a checkpoint on held-out data")
    evaluate.add_argument("--checkpoint", required=True)
    evaluate.add_argument("--data", default=None, help="default: the data the checkpoint was trained on")
    evaluate.add_argument("--split", choices=("val", "test"), default=None,
                          help="default: test when the data has a test set, else val (a folder without val/ "
                          "or test/ parts is scored whole)")
    evaluate.add_argument("--match-classes-by-position", action="store_true",
                          help="score class folders whose names differ from the checkpoint's classes by their "
                          "sorted position (without it, different names are an error)")
    _common(evaluate)

    visualize = sub.add_parser("visualize", help="deconvnet pictures of one layer of a checkpoint")
    visualize.add_argument("--checkpoint", required=True)
    visualize.add_argument("--layer", required=True, help="a layer name, e.g. conv2 or relu2 (see --help)")
    visualize.add_argument("--image", default=None,
                           help="an image file: project its strongest activations (default: top-9 over the "
                           "held-out set)")
    visualize.add_argument("--method", choices=("deconvnet", "guided", "saliency"), default="deconvnet")
    visualize.add_argument("--out", default="runs/visualize", help="output folder (default runs/visualize)")
    visualize.add_argument("--overwrite", action="store_true",
                           help="replace a picture of the same name made from another checkpoint")
    _viz_options(visualize)
    _common(visualize)

    graph = sub.add_parser("graph", help="the computation graph of a checkpoint's model (SVG, PNG or DOT)")
    graph.add_argument("--checkpoint", required=True)
    graph.add_argument("--out", default="graph.svg", help="graph.svg, graph.png or graph.dot")
    graph.add_argument("--forward", action="store_true", help="draw arrows in the forward direction")
    _common(graph)
    return parser


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: str | None = None) -> None:
    """Warnings (a skipped corrupt image, ...) as one line each, without the source line."""
    print(f"tapegrad: warning: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tapegrad`` command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage error (2) or --help (0)
        return int(exc.code or 0)
    with _threads(args.threads), warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.simplefilter("ignore", ResourceWarning)  # file-handle hygiene, not the user's business
        warnings.showwarning = _show_warning
        return _run(args)


def _threads(threads: int | None) -> AbstractContextManager[Any]:
    """The thread budget for this command (restored afterwards, so ``main`` called from a notebook or a test
    leaves the caller's settings); BLAS gets one thread per call (docs/performance.md, "Threads")."""
    if threads is not None and threads <= 0:
        return nullcontext()
    from tapegrad.autograd import runtime

    runtime.keep_freed_memory()  # the command owns its process (docs/performance.md, "Allocator")
    return runtime.num_threads(threads or runtime.get_num_threads(), blas=1)


def _run(args: argparse.Namespace) -> int:
    """Run the sub-command; tapegrad's, the data's and the file system's errors become one line."""
    from tapegrad.autograd.errors import TapegradError

    from . import commands, distributed
    from .outdir import folder_of, removed_if_empty_on_failure

    joined = False
    try:
        with removed_if_empty_on_failure(folder_of(args)):
            if distributed.wanted(args):
                distributed.setup(args)
                joined = True
            if args.device == "cuda":
                from tapegrad.autograd import gpu_available

                if not gpu_available():
                    raise OSError("--device cuda: no usable GPU (CuPy is not installed or sees no device); "
                                  "install it with `pip install tapegrad[gpu]` or use --device cpu")
            return getattr(commands, args.command)(args)
    except KeyboardInterrupt:
        return distributed.fail("tapegrad: interrupted (the last finished epoch's checkpoint is intact; continue "
                                "with --resume)", 130)
    except (TapegradError, OSError, ValueError, ArithmeticError, KeyError, RuntimeError, MemoryError) as exc:
        message = str(exc) if not isinstance(exc, KeyError) else f"missing entry {exc}"
        return distributed.fail(f"tapegrad: error: {message}", 1)  # whole: a state_dict error lists every key
    except Exception as exc:  # noqa: BLE001 - a bug of ours still gets one line, not a traceback
        return distributed.fail(f"tapegrad: error: internal error ({type(exc).__name__}: {exc}); this is a bug in "
                                "tapegrad, please report it with the command that caused it", 1)
    finally:
        if joined:  # main() called in-process (a script, a test) leaves no process group behind, as it found none
            distributed.leave()


if __name__ == "__main__":
    raise SystemExit(main())
