"""The report of a run: metrics, curves, graph, filters, ZF-style pictures, sanity scores and ``index.html``.

Each section is written independently: if one fails (say, a visualisation the installed tapegrad lacks), the
report says so in a visible note instead of stopping, and ``index.html`` only ever links files that exist.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tapegrad.autograd import Tensor

from .curves import plot_history
from .datasets import eval_transform, with_transform
from .html import Markup, write_index
from .pictures import Panel, panel_figure, say_once
from .progress import on_terminal
from .training import RunResult, evaluate_splits


@dataclass
class ReportOptions:
    """How much to visualise: the demo's defaults take well under a minute on two cores."""

    channels: int = 8  # feature maps per conv layer in the top-9 grids (the first ones)
    k: int = 9  # top activations per feature map
    top_images: int | None = None  # images scanned for the top activations (None: the whole test set)
    occlusion_images: int = 4
    misclassified: int = 8
    sanity_images: int = 16
    progress: bool = True


@dataclass
class Section:
    """One block of ``index.html``: a title, pictures with captions, or a note."""

    title: str
    text: str = ""
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)
    note: str = ""
    preformatted: str = ""


class Report:
    """Collects the sections while each is written; ``finish`` writes ``metrics.json`` and ``index.html``."""

    def __init__(self, out: Path, progress: bool) -> None:
        self.out = out
        self.sections: list[Section] = []
        self.progress = progress
        self.timings: dict[str, float] = {}

    def section(self, title: str, build: Callable[[], Section]) -> None:
        began = time.perf_counter()
        try:
            section = build()
        except Exception as exc:  # a broken picture must not cost the user the rest of the report
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            section = Section(title, note=f"This section could not be produced: {detail}")
            if self.progress:
                print(f"report: {title}: skipped ({detail})")
        self.timings[title] = round(time.perf_counter() - began, 2)
        section.figures = [(f, c) for f, c in section.figures if (self.out / f).is_file()]
        self.sections.append(section)


def write_report(run: RunResult, out: str | Path, options: ReportOptions | None = None,
                 extra_metrics: dict[str, Any] | None = None, started: float | None = None,
                 results: dict[str, dict[str, Any]] | None = None) -> Path:
    """Write the whole report of ``run`` into ``out`` and return the path of ``index.html``.

    ``results``: the run's ``evaluate_splits`` when the caller has them already (they are computed otherwise).
    """
    options = options or ReportOptions()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model, data, config = run.model.eval(), run.data, run.config
    transform = eval_transform(data.mean, data.std)
    val = with_transform(data.val, transform)
    test = with_transform(data.test, transform)
    report = Report(out, options.progress)
    results = evaluate_splits(run) if results is None else results
    held_out = test if test is not None else val
    held_name = "test" if test is not None else "validation"
    if held_out is not None and not len(held_out):  # e.g. one image per class: nothing was held out
        held_out = None

    metrics: dict[str, Any] = {
        "data": data.description, "classes": data.classes, "config": config.to_dict(),
        "model": {"layers": model.layer_names, "parameters": int(sum(p.size for p in model.parameters()))},
        "epochs_trained": len(run.history), "train_seconds": round(run.train_seconds, 2),
        "history": run.history,
    }
    for name, r in results.items():
        metrics[f"{name}_accuracy"] = r["accuracy"]
        metrics[f"{name}_loss"] = r["loss"]
        metrics[f"{name}_images"] = r["n"]
        metrics[f"{name}_confusion"] = r["confusion"].tolist()
    metrics.update(extra_metrics or {})

    summary = Section("Results", text=_summary_text(metrics, data.classes))
    report.sections.append(summary)
    report.section("Training curves", lambda: _curves(run, out))
    if run.checkpoint is not None and run.checkpoint.is_file():
        report.sections.append(Section("Checkpoint", text=Markup(
            "<a href='{0}'>{0}</a>: weights, optimizer, scheduler, RNG "
            "state and configuration (a NumPy .npz archive without pickle). Continue training with "
            "<code>tapegrad train --resume {0} --epochs N</code>; evaluate it with "
            "<code>tapegrad evaluate --checkpoint {0}</code>.").format(run.checkpoint.name)))
    sample = (held_out if held_out is not None else with_transform(data.train, transform))[0][0]
    report.section("Computation graph", lambda: _graph(model, sample, out))
    report.section("First-layer filters", lambda: _filters(model, out))
    if held_out is None:
        report.sections.append(Section("Pictures", note=(
            "No held-out images (too few per class to set any aside), so there are no pictures of what the "
            "network does on images it did not train on. Add images, or a test/ folder.")))
    else:
        report.section("Top-9 activations per feature map (Zeiler & Fergus, Fig. 2)",
                       lambda: _top9(model, held_out, held_name, options, out))
        report.section("Occlusion sensitivity (Zeiler & Fergus, Fig. 7)",
                       lambda: _occlusion(model, held_out, results[held_name], data.classes, options, out))
        report.section("Where it goes wrong: misclassified images",
                       lambda: _misclassified(model, held_out, results[held_name], data.classes, options,
                                              out, metrics))
        report.section("Sanity check (Adebayo et al., 2018)",
                       lambda: _sanity(model, held_out, options, out, metrics))
    metrics["report_seconds"] = report.timings
    if started is not None:  # the whole job, from the start of training to here
        metrics["wall_seconds"] = round(time.perf_counter() - started, 1)
    (out / "metrics.json").write_text(json.dumps(_jsonable(metrics), indent=2) + "\n")
    files = Markup("<a href='metrics.json'>metrics.json</a>: every figure on this page, the configuration and the "
             "per-epoch history.")
    report.sections.insert(1, Section("Files", text=files))
    return write_index(out, report.sections, title="tapegrad: what did the network learn?")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _summary_text(metrics: dict[str, Any], classes: list[str]) -> Markup:
    """The results block; the data's description (a path) and class names are escaped (they are user data)."""
    parts = [Markup("<p>Data: {}. Classes: {}.</p><ul>").format(metrics["data"], ", ".join(classes))]
    for name in ("validation", "test"):
        if f"{name}_accuracy" in metrics:
            parts.append(Markup("<li><b>{} accuracy: {:.1%}</b> ({} images)</li>").format(
                name, metrics[f"{name}_accuracy"], metrics[f"{name}_images"]))
    h = metrics["history"]
    if h:
        parts.append(Markup("<li>{} epochs in {:.0f} s ({:.0f} training images/s)</li>").format(
            metrics["epochs_trained"], metrics["train_seconds"], np.mean([r["images_per_second"] for r in h])))
    parts.append(Markup("<li>model: {:,} parameters, layers {}</li></ul>").format(
        metrics["model"]["parameters"], " → ".join(metrics["model"]["layers"])))
    if "test_confusion" in metrics:
        rows = Markup("").join(Markup("<tr><th>{}</th>").format(classes[i])
                               + Markup("").join(Markup("<td>{}</td>").format(v) for v in row) + Markup("</tr>")
                               for i, row in enumerate(metrics["test_confusion"]))
        head = Markup("").join(Markup("<th>{}</th>").format(c) for c in classes)
        parts.append(Markup("<p>Test confusion matrix (rows: true class, columns: predicted):</p>"
                            "<table class='confusion'><tr><th></th>{}</tr>{}</table>").format(head, rows))
    return Markup("").join(parts)


def _curves(run: RunResult, out: Path) -> Section:
    plot_history(run.history, out / "curves.png")
    return Section("Training curves", figures=[("curves.png", (
        "Loss and accuracy per epoch on the training batches (blue: augmented images, dropout on, "
        "label-smoothed loss) and on the validation images (orange: plain images, eval mode)."))])


def _graph(model: Any, sample: Any, out: Path) -> Section:
    from tapegrad.viz import draw_model, render_graph
    from tapegrad.viz.project import model_device

    x = Tensor(np.asarray(sample.numpy() if isinstance(sample, Tensor) else sample)[None], device=model_device(model))
    # module boxes stack the modules in a staircase (1289 pt wide, drawn at 64 % in the page); without them
    # the graph is 779 pt wide, so the page shows its 11 pt labels at full size. Both are written.
    compact = {"nodesep": "0.2", "ranksep": "0.3"}
    graph = draw_model(model, x, cluster_modules=False, graph_attr=compact)
    boxed = draw_model(model, x, graph_attr=compact)
    (out / "graph.dot").write_text(boxed.source)
    caption = ("The computation graph one forward pass records (one image): a node per op with its output "
               "shape, parameters by name. Gradients flow along the arrows.")
    if shutil.which("dot"):
        render_graph(graph, out / "graph.svg")
        render_graph(boxed, out / "graph_modules.svg")
        return Section("Computation graph", figures=[("graph.svg", caption)],
                       text=Markup("The same graph with a box per module: <a href='graph_modules.svg'>graph_modules.svg"
                            "</a>; DOT source: <a href='graph.dot'>graph.dot</a>."))
    say_once("report: Graphviz's dot is not installed, so the computation graph is written as DOT text only "
             f"({out / 'graph.dot'}). Install it for the picture: apt-get install graphviz (Debian/Ubuntu), "
             "brew install graphviz (macOS) or conda install graphviz.")
    return Section("Computation graph", text=Markup(
        "Graphviz's <code>dot</code> is not installed, so the graph is given as DOT text: "
        "<a href='graph.dot'>graph.dot</a> (render it with <code>dot -Tsvg graph.dot</code>; "
        "<code>apt-get install graphviz</code>)."))


def _filters(model: Any, out: Path) -> Section:
    from tapegrad.viz import filter_grid

    weight = getattr(model, model.conv_layers[0]).weight
    filter_grid(weight, mode="symmetric").save(out / "filters_conv1.png")
    kh, kw = weight.shape[-2:]
    return Section("First-layer filters", figures=[("filters_conv1.png", (
        f"The {weight.shape[0]} learned {kh}x{kw} filters of conv1 (blue lines separate them), grey = 0, "
        "bright = positive, dark = negative (one symmetric scale per filter)."))])


def _top9(model: Any, dataset: Any, name: str, options: ReportOptions, out: Path) -> Section:
    from tapegrad.nn.data import Subset
    from tapegrad.viz import top_activations_grid, top_activations_of_layers

    source = dataset if options.top_images is None else Subset(dataset, range(min(options.top_images,
                                                                                   len(dataset))))
    convs = list(model.conv_layers)
    widths = [getattr(model, conv).weight.shape[0] for conv in convs]
    channels = [list(range(min(options.channels, width))) for width in widths]
    layers = [f"relu{i}" for i in range(1, len(convs) + 1)]
    results = top_activations_of_layers(model, source, layers, channels=channels, k=options.k,
                                        progress=options.progress and on_terminal())  # one pass for all layers
    figures = []
    for conv, layer, width, chosen, result in zip(convs, layers, widths, channels, results, strict=True):
        file = f"top9_{conv}.png"
        top_activations_grid(result, title=f"{conv} (after {layer}): deconvnet projection (top) above the "
                                           "image patch (bottom)").save(out / file)
        figures.append((file, (
            f"{conv} (after {layer}): feature maps {chosen[0]}–{chosen[-1]} of {width}, one row each "
            f"(ch). For the {options.k} strongest activations (#1 = strongest, its value under the pair) over the "
            f"{len(source)} {name} images: the deconvnet projection of that single activation to pixel space "
            "(top of each pair) above the image patch in its receptive field (bottom). Each projection is "
            "min-max normalised on its own.")))
    return Section("Top-9 activations per feature map (Zeiler & Fergus, Fig. 2)", figures=figures, text=Markup(
        "As in Zeiler &amp; Fergus (2014), Fig. 2: higher layers respond to larger, more specific "
        "structures."))


def _occlusion_map(model: Any, image: np.ndarray, target: int) -> Any:
    from tapegrad.viz import occlusion

    size = max(3, image.shape[-1] // 4)
    return occlusion(model, image, target=target, size=size, stride=max(1, size // 2), fill=0.0)


def _occlusion(model: Any, dataset: Any, result: dict[str, Any], classes: list[str], options: ReportOptions,
               out: Path) -> Section:
    correct = np.flatnonzero(result["predictions"] == result["labels"])
    picks: list[int] = []
    for c in range(len(classes)):  # a few correctly classified images of each class
        members = [int(i) for i in correct if result["labels"][i] == c]
        picks += members[: max(1, options.occlusion_images // len(classes))]
    rows = []
    for i in picks[: max(options.occlusion_images, 1)]:
        image = np.asarray(dataset[i][0])
        target = int(result["labels"][i])
        occ = _occlusion_map(model, image, target)
        change = occ.probabilities - occ.baseline
        rows.append([Panel(image, f"#{i}: {classes[target]}, p {occ.baseline:.2f}"),
                     Panel(change, f"occluded: p {occ.probabilities.min():.2f}–{occ.probabilities.max():.2f}",
                           "change")])
    panel_figure(rows, out / "occlusion.png")
    return Section("Occlusion sensitivity (Zeiler & Fergus, Fig. 7)", figures=[("occlusion.png", (
        "Left: a correctly classified held-out image and the probability p the network gives its class. Right: "
        "how much that probability changes while a square (a quarter of the image wide, filled with the data "
        "mean) hides each place — blue: it drops (the network needs that place), red: it rises, white: no "
        "change — on one symmetric scale shared by all maps (the colour bar). \"no effect\" marks a map "
        "that changes p by less than 0.01 anywhere."))])


def _misclassified(model: Any, dataset: Any, result: dict[str, Any], classes: list[str],
                   options: ReportOptions, out: Path, metrics: dict[str, Any]) -> Section:
    from tapegrad.viz import DeconvNet, GuidedBackprop

    wrong = np.flatnonzero(result["predictions"] != result["labels"])
    metrics["misclassified_count"] = int(len(wrong))
    if not len(wrong):
        return Section("Where it goes wrong: misclassified images",
                       text="No held-out image was misclassified.")
    shown = wrong[: options.misclassified]
    images = np.stack([np.asarray(dataset[int(i)][0]) for i in shown])
    predicted = result["predictions"][shown]
    channels = [int(p) for p in predicted]
    deconv = DeconvNet(model).project(images, "fc", channel=channels).maps
    guided = GuidedBackprop(model).project(images, "fc", channel=channels).maps
    rows = []
    for j, i in enumerate(shown):
        truth, pred = int(result["labels"][i]), int(predicted[j])
        occ = _occlusion_map(model, images[j], pred)
        rows.append([
            Panel(images[j], f"#{i} is {classes[truth]},\nsays {classes[pred]} "
                             f"({result['probabilities'][i, pred]:.2f})"),
            Panel(deconv[j], f"deconvnet:\n{classes[pred]} score", "signed"),
            Panel(guided[j], f"guided backprop:\n{classes[pred]} score", "signed"),
            Panel(occ.probabilities - occ.baseline, f"occluded: p({classes[pred]})\n"
                  f"{occ.probabilities.min():.2f}–{occ.probabilities.max():.2f}", "change")])
    panel_figure(rows, out / "misclassified.png")
    return Section("Where it goes wrong: misclassified images", figures=[("misclassified.png", (
        f"{len(shown)} of the {len(wrong)} misclassified held-out images (the original: \"sometimes it does "
        "not perform well\"). Per row: the image with its true class; the deconvnet projection (Zeiler & "
        "Fergus) of the wrong class's score, and beside it the guided-backpropagation map of the same score "
        "(Springenberg et al.; usually sharper on a small network) — grey = 0, bright = positive evidence, dark "
        "= negative; the change of the wrong class's probability while each place is occluded (blue: hiding "
        "this place removes wrong evidence), on the figure's shared scale."))])


def _sanity(model: Any, dataset: Any, options: ReportOptions, out: Path, metrics: dict[str, Any]) -> Section:
    from tapegrad.viz import format_table, sanity_check

    n = min(options.sanity_images, len(dataset))
    x = np.stack([np.asarray(dataset[i][0]) for i in range(n)])
    result = sanity_check(model, x)
    table = format_table(result)
    (out / "sanity.txt").write_text(table + "\n")
    metrics["sanity_check"] = _jsonable({k: v for k, v in result.items() if not k.endswith("_maps")})
    return Section("Sanity check (Adebayo et al., 2018)", preformatted=table, text=Markup(
        "Cascading randomisation on {n} held-out images: the weights are replaced by random ones from the "
        "top layer down, and after each step the maps of the predicted class are compared with the original "
        "ones (Spearman rank correlation and SSIM, 1 = unchanged). A method whose maps stay similar while "
        "the network is destroyed shows the image, not what the network learned. "
        "Also in <a href='sanity.txt'>sanity.txt</a> and metrics.json.").format(n=n))
