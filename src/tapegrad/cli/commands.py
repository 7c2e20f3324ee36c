"""The sub-commands: each takes the parsed arguments and returns the exit status."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from tapegrad.autograd import Tensor
from tapegrad.experiment import TrainConfig
from tapegrad.experiment import evaluate as evaluate_model
from tapegrad.experiment import train as train_model
from tapegrad.experiment.datasets import eval_transform, with_transform
from tapegrad.experiment.progress import on_terminal
from tapegrad.experiment.report import ReportOptions, write_report
from tapegrad.experiment.state import load_checkpoint, model_from_checkpoint
from tapegrad.experiment.training import evaluate_splits
from tapegrad.nn.data import DataError
from tapegrad.nn.data.image_folder import UNREADABLE, load_image

from .distributed import is_main_process, several_ranks
from .heldout import checkpoint_data, evaluation_set
from .outdir import check_picture, model_fingerprint, prepare_demo, prepare_train, save_picture


def _say(args: argparse.Namespace, text: str) -> None:
    print(text, flush=True)


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _options(args: argparse.Namespace) -> ReportOptions:
    return ReportOptions(channels=args.viz_channels, top_images=args.top_images, progress=not args.quiet)


def _print_scores(run: Any) -> dict[str, dict[str, Any]]:
    """Evaluate the held-out splits once, print their accuracy, and return the results (the report reuses them)."""
    results = evaluate_splits(run)
    for name, result in results.items():
        print(f"{name} accuracy: {result['accuracy']:.1%} ({result['n']} images)", flush=True)
    return results


def demo(args: argparse.Namespace) -> int:
    """Train on the embedded set, evaluate, write the report; print where it is."""
    started = time.perf_counter()
    config = TrainConfig(data="embedded", epochs=args.epochs or TrainConfig.epochs, seed=args.seed,
                         limit=args.limit, image_size=args.image_size, device=args.device)
    out = Path(args.out)
    replacing = prepare_demo(out, args.overwrite)
    if replacing:
        _say(args, f"tapegrad demo: {replacing}")
    _say(args, f"tapegrad demo: training the reference CNN for {_epochs(config.epochs)} on the embedded "
               f"shirt-vs-not-shirt set (Fashion-MNIST), writing to {out}/")
    run = train_model(config, out, progress=not args.quiet)
    if not is_main_process():  # under mpiexec rank 0 alone evaluates and reports
        return 0
    results = _print_scores(run)
    _say(args, "writing the report (top-9 deconvnet grids, occlusion, misclassified images, sanity) ...")
    index = write_report(run, out, _options(args), started=started, results=results)
    _say(args, f"done in {time.perf_counter() - started:.0f} s. Open the report: {index.resolve()}")
    return 0


def _train_config(args: argparse.Namespace) -> TrainConfig:
    values = {"data": args.data, "image_size": args.image_size, "channels": args.channels,
              "batch_size": args.batch_size, "lr": args.lr, "optimizer": args.optimizer,
              "weight_decay": args.weight_decay, "augment": args.augment, "seed": args.seed,
              "limit": args.limit, "device": args.device}
    return TrainConfig(**{k: v for k, v in values.items() if v is not None},
                       **({"epochs": args.epochs} if args.epochs else {}))


def train(args: argparse.Namespace) -> int:
    """Train (or resume) and checkpoint every epoch; optionally write the report."""
    started = time.perf_counter()
    if args.resume:
        out = Path(args.out) if args.out else Path(args.resume).parent
        config = None
        _say(args, f"tapegrad train: resuming {args.resume}, writing to {out}/")
    else:
        out = Path(args.out or "runs/train")
        config = _train_config(args)
        _say(args, f"tapegrad train: {_epochs(config.epochs)} on {config.data}, writing to {out}/")
    tidied = prepare_train(out, args.resume, args.overwrite)
    if tidied:
        _say(args, f"tapegrad train: {tidied}")
    run = train_model(config, out, resume=args.resume, epochs=args.epochs if args.resume else None,
                      device=args.device, progress=not args.quiet)
    if not is_main_process():  # under mpiexec rank 0 alone evaluates and reports
        return 0
    _say(args, f"checkpoint: {run.checkpoint} ({_epochs(len(run.history))}, "
               f"{run.train_seconds / max(len(run.history), 1):.1f} s per epoch)")
    results = _print_scores(run)
    if args.report:
        index = write_report(run, out, _options(args), started=started, results=results)
        _say(args, f"report: {index.resolve()}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Accuracy and confusion matrix of a checkpoint on held-out data (every image of a plain folder)."""
    state = load_checkpoint(args.checkpoint)
    model = model_from_checkpoint(state).to(args.device)
    dataset, what = evaluation_set(state, args.data, args.split, args.match_classes_by_position)
    result = evaluate_model(model, with_transform(dataset, eval_transform(state["mean"], state["std"])),
                            device=args.device)
    if what in ("test", "val"):
        print(f"{what} accuracy: {result['accuracy']:.2%} on {result['n']} images "
              f"(mean loss {result['loss']:.4f})")
    else:
        print(f"accuracy: {result['accuracy']:.2%} on {result['n']} images ({what}; mean loss "
              f"{result['loss']:.4f})")
    classes = state["classes"]
    width = max(len(c) for c in classes) + 2
    print("confusion (rows: true, columns: predicted):")
    print(" " * width + "".join(f"{c:>{width}}" for c in classes))
    for name, row in zip(classes, result["confusion"], strict=True):
        print(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return 0


def _layer(model: Any, name: str) -> str:
    if name not in model.layer_names:
        raise ValueError(f"--layer {name}: the model has no such layer; its layers are "
                         f"{', '.join(model.layer_names)}")
    return name


def _image_array(path: str, state: dict[str, Any]) -> np.ndarray:
    config = state["model_config"]
    try:
        image = load_image(Path(path), (config["image_size"],) * 2, config["in_channels"])
    except UNREADABLE as exc:
        raise DataError(f"{path}: cannot read this image ({type(exc).__name__}: {exc})") from None
    return eval_transform(state["mean"], state["std"])(image)


def _project_strongest(
    model: Any, x: np.ndarray, layer: str, count: int, method: str, device: str = "cpu"
) -> tuple[Any, list[int]]:
    """The projections of ``layer``'s ``count`` most active channels on one image, from one recorded forward pass
    (the image repeated once per projection: each walk keeps one activation of its own copy)."""
    from tapegrad.autograd import enable_grad
    from tapegrad.viz import DeconvNet, GuidedBackprop, Saliency
    from tapegrad.viz.project import LayerReached, capture, inspection_mode

    images = Tensor(np.repeat(x[None], count, axis=0), requires_grad=True, device=device)
    with inspection_mode(model), enable_grad(), capture(getattr(model, layer), stop=True) as captured:
        try:  # the layers above this one are not needed
            model(images)
        except LayerReached:
            pass
    activation = captured[0]
    first = activation.numpy()[0].reshape(activation.shape[1], -1)
    channels = [int(c) for c in np.argsort(-first.max(axis=1))[:count]]
    padded = channels + channels[-1:] * (count - len(channels))  # a layer narrower than count: repeat the last
    projector = {"deconvnet": DeconvNet, "guided": GuidedBackprop, "saliency": Saliency}[method](model)
    maps = projector.project(images, activation, channel=padded).maps
    return maps[: len(channels)], channels


def visualize(args: argparse.Namespace) -> int:
    """Deconvnet pictures of one layer: for one image, or top-9 over the held-out set."""
    from tapegrad.experiment.pictures import labelled_row
    from tapegrad.viz import to_pil, top_activations, top_activations_grid

    state = load_checkpoint(args.checkpoint)
    model = model_from_checkpoint(state).to(args.device)
    layer = _layer(model, args.layer)
    out = Path(args.out)
    fingerprint = model_fingerprint(args.checkpoint)
    if args.image:
        path = out / f"{args.method}_{layer}_{Path(args.image).stem}.png"
    else:
        path = out / f"top9_{layer}_{args.method}.png"
    check_picture(path, fingerprint, args.overwrite)  # before the work, not after it
    scale = max(1, 112 // state["model_config"]["image_size"])
    if args.image and not is_main_process():  # one image: rank 0's work alone
        return 0
    if args.image:
        x = _image_array(args.image, state)
        maps, channels = _project_strongest(model, x, layer, args.viz_channels, args.method, args.device)
        tiles = [to_pil(x, "minmax", scale=scale)] + [to_pil(m, "minmax", scale=scale) for m in maps]
        labels = ["input"] + [f"{layer} ch {c}" for c in channels]
        save_picture(labelled_row(tiles, labels), path, fingerprint)
    else:
        data = checkpoint_data(state, None, by_position=True)  # top-9 does not use the labels
        held = data.test if data.test is not None else data.val
        dataset = with_transform(held, eval_transform(state["mean"], state["std"]))
        if args.top_images:
            from tapegrad.nn.data import Subset

            dataset = Subset(dataset, range(min(args.top_images, len(dataset))))
        module = getattr(model, layer)
        width = module.weight.shape[0] if hasattr(module, "weight") else None
        channels = list(range(args.viz_channels if width is None else min(args.viz_channels, width)))
        result = top_activations(model, dataset, layer, channels=channels, progress=not args.quiet and on_terminal(),
                                 method=args.method, distributed=several_ranks())  # sharded under mpiexec
        if not is_main_process():
            return 0
        save_picture(top_activations_grid(result, scale=scale), path, fingerprint)
    print(f"wrote {path}")
    return 0


def graph(args: argparse.Namespace) -> int:
    """The model's computation graph for one input, as SVG/PNG (needs Graphviz's dot) or DOT text."""
    from tapegrad.viz import draw_model, render_graph

    state = load_checkpoint(args.checkpoint)
    model = model_from_checkpoint(state)
    config = state["model_config"]
    x = Tensor(np.zeros((1, config["in_channels"], config["image_size"], config["image_size"]), np.float32))
    drawing = draw_model(model, x, direction="forward" if args.forward else "backward")
    out = Path(args.out)
    if out.suffix == ".dot":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(drawing.source)
    elif shutil.which("dot") is None:
        raise OSError(f"--out {out}: rendering needs Graphviz's dot (apt-get install graphviz); "
                      "or ask for DOT text with --out graph.dot")
    else:
        out = render_graph(drawing, out)  # it adds .svg to a name without a suffix
    print(f"wrote {out}")
    return 0

