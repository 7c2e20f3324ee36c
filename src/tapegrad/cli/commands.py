"""The sub-commands: each takes the parsed arguments and returns the exit status."""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from tapegrad.autograd import Tensor
from tapegrad.experiment import TrainConfig, load_data
from tapegrad.experiment import evaluate as evaluate_model
from tapegrad.experiment import train as train_model
from tapegrad.experiment.datasets import eval_transform, with_transform
from tapegrad.experiment.report import ReportOptions, write_report
from tapegrad.experiment.state import config_from_checkpoint, load_checkpoint, model_from_checkpoint
from tapegrad.nn.data import DataError
from tapegrad.nn.data.image_folder import load_image


def _say(args: argparse.Namespace, text: str) -> None:
    print(text, flush=True)


def _options(args: argparse.Namespace) -> ReportOptions:
    return ReportOptions(channels=args.viz_channels, top_images=args.top_images, progress=not args.quiet)


def _print_scores(run: Any) -> dict[str, float]:
    scores = {}
    transform = eval_transform(run.data.mean, run.data.std)
    for name, ds in (("validation", run.data.val), ("test", run.data.test)):
        if ds is not None and len(ds):
            result = evaluate_model(run.model, with_transform(ds, transform), device=run.config.device)
            scores[name] = result["accuracy"]
            print(f"{name} accuracy: {result['accuracy']:.1%} ({result['n']} images)", flush=True)
    return scores


def demo(args: argparse.Namespace) -> int:
    """Train on the embedded set, evaluate, write the report; print where it is."""
    started = time.perf_counter()
    config = TrainConfig(data="embedded", epochs=args.epochs or TrainConfig.epochs, seed=args.seed,
                         limit=args.limit, image_size=args.image_size, device=args.device)
    out = Path(args.out)
    _say(args, f"tapegrad demo: training the reference CNN for {config.epochs} epochs on the embedded "
               f"shirt-vs-not-shirt set (Fashion-MNIST), writing to {out}/")
    run = train_model(config, out, progress=not args.quiet)
    _print_scores(run)
    _say(args, "writing the report (top-9 deconvnet grids, occlusion, misclassified images, sanity) ...")
    index = write_report(run, out, _options(args), started=started)
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
        _say(args, f"tapegrad train: {config.epochs} epochs on {config.data}, writing to {out}/")
    run = train_model(config, out, resume=args.resume, epochs=args.epochs if args.resume else None,
                      device=args.device, progress=not args.quiet)
    _say(args, f"checkpoint: {run.checkpoint} ({len(run.history)} epochs, "
               f"{run.train_seconds / max(len(run.history), 1):.1f} s per epoch)")
    _print_scores(run)
    if args.report:
        index = write_report(run, out, _options(args), started=started)
        _say(args, f"report: {index.resolve()}")
    return 0


def _checkpoint_data(state: dict[str, Any], data: str | None) -> Any:
    config = config_from_checkpoint(state)
    model_config = state["model_config"]
    config.limit = None
    config.image_size = model_config["image_size"]
    config.channels = model_config["in_channels"] if data not in (None, "embedded", "fashion-mnist") else None
    if data is not None:
        config.data = data
    loaded = load_data(config)
    if len(loaded.classes) != model_config["num_classes"]:
        raise DataError(f"{config.data} has {len(loaded.classes)} classes {loaded.classes}, the "
                        f"checkpoint's model {model_config['num_classes']} ({', '.join(state['classes'])})")
    return loaded


def evaluate(args: argparse.Namespace) -> int:
    """Accuracy and confusion matrix of a checkpoint on held-out data."""
    state = load_checkpoint(args.checkpoint)
    model = model_from_checkpoint(state).to(args.device)
    data = _checkpoint_data(state, args.data)
    split = args.split or ("test" if data.test is not None else "val")
    dataset = data.test if split == "test" else data.val
    if dataset is None:
        raise DataError(f"{args.data or state['train_config']['data']} has no {split} set")
    result = evaluate_model(model, with_transform(dataset, eval_transform(state["mean"], state["std"])),
                            device=args.device)
    print(f"{split} accuracy: {result['accuracy']:.2%} on {result['n']} images "
          f"(mean loss {result['loss']:.4f})")
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


def _image_tensor(path: str, state: dict[str, Any]) -> np.ndarray:
    config = state["model_config"]
    try:
        image = load_image(Path(path), (config["image_size"],) * 2, config["in_channels"])
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path}: cannot read this image ({exc})") from None
    return eval_transform(state["mean"], state["std"])(image).numpy()


def visualize(args: argparse.Namespace) -> int:
    """Deconvnet pictures of one layer: for one image, or top-9 over the held-out set."""
    from tapegrad.experiment.pictures import labelled_row
    from tapegrad.viz import (
        DeconvNet,
        GuidedBackprop,
        Saliency,
        to_pil,
        top_activations,
        top_activations_grid,
    )

    state = load_checkpoint(args.checkpoint)
    model = model_from_checkpoint(state).to(args.device)
    layer = _layer(model, args.layer)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scale = max(1, 112 // state["model_config"]["image_size"])
    if args.image:
        x = _image_tensor(args.image, state)
        captured: list[Any] = []
        handle = getattr(model, layer).register_forward_hook(lambda m, i, o: captured.append(o.numpy()))
        model(Tensor(x[None], device=args.device))
        handle.remove()
        act = captured[0][0].reshape(captured[0].shape[1], -1)
        channels = [int(c) for c in np.argsort(-act.max(axis=1))[: args.viz_channels]]
        methods = {"deconvnet": DeconvNet, "guided": GuidedBackprop, "saliency": Saliency}
        projector = methods[args.method](model)
        maps = projector.project(x, layer, channel=channels).maps
        tiles = [to_pil(x, "minmax", scale=scale)] + [to_pil(m, "minmax", scale=scale) for m in maps]
        labels = ["input"] + [f"{layer} ch {c}" for c in channels]
        path = out / f"{args.method}_{layer}_{Path(args.image).stem}.png"
        labelled_row(tiles, labels).save(path)
    else:
        data = _checkpoint_data(state, None)
        held = data.test if data.test is not None else data.val
        dataset = with_transform(held, eval_transform(state["mean"], state["std"]))
        if args.top_images:
            from tapegrad.nn.data import Subset

            dataset = Subset(dataset, range(min(args.top_images, len(dataset))))
        module = getattr(model, layer)
        width = module.weight.shape[0] if hasattr(module, "weight") else None
        channels = list(range(args.viz_channels if width is None else min(args.viz_channels, width)))
        result = top_activations(model, dataset, layer, channels=channels, progress=not args.quiet,
                                 method=args.method)
        path = out / f"top9_{layer}_{args.method}.png"
        top_activations_grid(result, scale=scale).save(path)
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
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".dot":
        out.write_text(drawing.source)
    elif shutil.which("dot") is None:
        raise OSError(f"--out {out}: rendering needs Graphviz's dot (apt-get install graphviz); "
                      "or ask for DOT text with --out graph.dot")
    else:
        render_graph(drawing, out)
    print(f"wrote {out}")
    return 0

