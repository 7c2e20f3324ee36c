"""The training loop: seeded, checkpointed every epoch, resumable exactly.

Exactness of ``--resume``: everything random is a function of saved state.  The model is initialised from the
run's seed; the data loader's order for epoch ``e`` is a function of ``(seed, e)``; augmentation and dropout
draw from tapegrad's default generator, whose state is saved after every epoch; the optimizer and scheduler
states are saved too.  A run interrupted after epoch ``e`` and resumed therefore computes the very same
floating-point operations as one that never stopped (tested: the weights agree bit for bit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from tapegrad.autograd import manual_seed, no_grad
from tapegrad.autograd.random import get_rng_state, set_rng_state
from tapegrad.nn import F, optim
from tapegrad.nn.data import DataLoader

from . import parallel
from .config import TrainConfig
from .datasets import Data, eval_transform, load_data, train_transform, with_transform
from .model import ReferenceCNN
from .progress import epoch_line, on_terminal
from .state import load_checkpoint, save_checkpoint

CHECKPOINT = "checkpoint.npz"


@dataclass
class RunResult:
    """What ``train`` returns: the model (eval mode), its data, per-epoch history and where it was saved."""

    model: ReferenceCNN
    data: Data
    config: TrainConfig
    history: list[dict[str, float]] = field(default_factory=list)
    checkpoint: Path | None = None
    train_seconds: float = 0.0


def make_optimizer(config: TrainConfig, params: Any) -> optim.Optimizer:
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.decay,
                         nesterov=config.momentum > 0)
    cls = optim.AdamW if config.optimizer == "adamw" else optim.Adam
    return cls(params, lr=config.lr, weight_decay=config.decay)


def evaluate(model: Any, dataset: Any, batch_size: int = 256, device: str = "cpu") -> dict[str, Any]:
    """Accuracy, mean loss, predictions and class probabilities of ``model`` (eval mode) on ``dataset``."""
    was_training = model.training
    model.eval()
    probs, labels, losses = [], [], []
    with no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size):
            logits = model(x.to(device))
            losses.append(float(F.cross_entropy(logits, y.to(device), reduction="sum").item()))
            probs.append(F.softmax(logits, dim=1).numpy())
            labels.append(y.numpy())
    model.train(was_training)
    p, t = np.concatenate(probs), np.concatenate(labels)
    pred = p.argmax(axis=1)
    k = p.shape[1]
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (t, pred), 1)
    return {"accuracy": float((pred == t).mean()), "loss": float(sum(losses) / len(t)), "n": int(len(t)),
            "predictions": pred, "labels": t, "probabilities": p, "confusion": confusion}


def evaluate_splits(run: RunResult) -> dict[str, dict[str, Any]]:
    """``evaluate`` on the run's validation and test sets (those it has), each once: the report and the command
    line's printed scores share these results."""
    transform = eval_transform(run.data.mean, run.data.std)
    results = {}
    for name, ds in (("validation", run.data.val), ("test", run.data.test)):
        if ds is not None and len(ds):
            results[name] = evaluate(run.model, with_transform(ds, transform), device=run.config.device)
    return results


def _epoch(model: Any, loader: DataLoader, optimizer: Any, config: TrainConfig, bar: Any) -> dict[str, float]:
    ranks = parallel.world()[1]
    model.train()
    total_loss, correct, seen, start = 0.0, 0, 0, time.perf_counter()
    for x, y in loader:
        x, y = x.to(config.device), y.to(config.device)
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=config.label_smoothing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        n = len(y)
        value = float(loss.item())
        if not math.isfinite(value):
            raise FloatingPointError(f"the training loss became {value}: lower --lr (now {config.lr})")
        total_loss += value * n
        correct += int((logits.data.argmax(axis=1) == y.data).sum())
        seen += n
        rate = seen / max(time.perf_counter() - start, 1e-9)
        bar.update(n * ranks)
        bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}", img_s=f"{rate:.0f}")
    total_loss, correct, seen = parallel.sum_over_ranks(total_loss, correct, seen)  # the metrics of all ranks
    return {"train_loss": total_loss / seen, "train_accuracy": correct / seen,
            "images_per_second": seen / max(time.perf_counter() - start, 1e-9)}


def train(config: TrainConfig | None, out: str | Path, resume: str | Path | None = None,
          epochs: int | None = None, device: str | None = None, progress: bool = True,
          on_epoch: Callable[[int, dict[str, float]], None] | None = None) -> RunResult:
    """Train the reference CNN as ``config`` says, writing ``out/checkpoint.npz`` after every epoch.

    With ``resume`` (a checkpoint path) the run's saved configuration is used (``config`` may be None) and
    training continues after its last finished epoch, up to ``epochs`` when given (more than planned extends
    the cosine schedule, so such a run is no longer bit-identical to one planned that long from the start).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = None
    if resume is not None:
        state = load_checkpoint(resume)
        config = TrainConfig.from_dict(state["train_config"])
    if config is None:
        raise ValueError("train: give a TrainConfig or a checkpoint to resume")
    if epochs is not None:
        config.epochs = epochs
    if device is not None:
        config.device = device
    manual_seed(config.seed)
    data = load_data(config)
    model = ReferenceCNN(data.channels, len(data.classes), data.image_size, config.dropout).to(config.device)
    net = parallel.wrap(model)  # DistributedDataParallel under mpiexec; the model itself otherwise
    optimizer = make_optimizer(config, model.parameters())
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    augmented = with_transform(data.train, train_transform(config, data))
    loader = parallel.train_loader(augmented, config.batch_size, config.seed)
    val = with_transform(data.val, eval_transform(data.mean, data.std))
    history: list[dict[str, float]] = []
    start_epoch, seconds = 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scheduler.T_max = config.epochs  # the schedule a changed --epochs asks for (unchanged otherwise)
        set_rng_state(state["rng"])
        start_epoch, history, seconds = int(state["epoch"]), list(state["history"]), float(state["seconds"])
    loader.set_epoch(start_epoch)
    path = out / CHECKPOINT
    bars = progress and on_terminal()  # off a terminal: one line per epoch instead of carriage-return updates
    for epoch in range(start_epoch, config.epochs):
        began = time.perf_counter()
        parallel.start_epoch(loader, epoch, config.seed)
        with tqdm(total=parallel.global_images(loader), desc=f"epoch {epoch + 1}/{config.epochs}", unit="img",
                  disable=not bars or not parallel.is_main_process(), leave=True, dynamic_ncols=True) as bar:
            record = _epoch(net, loader, optimizer, config, bar)
            record["lr"] = float(optimizer.param_groups[0]["lr"])
            scheduler.step()
            if val is not None and len(val):
                loss, accuracy = parallel.evaluate_over_ranks(evaluate, model, val, config.device)
                record.update(val_loss=loss, val_accuracy=accuracy)
                bar.set_postfix(loss=f"{record['train_loss']:.3f}", acc=f"{record['train_accuracy']:.3f}",
                                val_acc=f"{record['val_accuracy']:.3f}",
                                img_s=f"{record['images_per_second']:.0f}")
        record["epoch"] = epoch + 1
        record["seconds"] = time.perf_counter() - began
        seconds += record["seconds"]
        history.append(record)
        if progress and not bars and parallel.is_main_process():
            print(epoch_line(record, config.epochs), flush=True)
        if parallel.is_main_process():  # one writer, rank 0 (atomically: see nn.save)
            save_checkpoint(path, model_config=model.config, train_config=config.to_dict(), classes=data.classes,
                            mean=data.mean, std=data.std, model=model.state_dict(),
                            optimizer=optimizer.state_dict(),
                            scheduler=scheduler.state_dict(), epoch=epoch + 1, rng=get_rng_state(),
                            history=history, seconds=seconds, data_description=data.description)
        if on_epoch is not None:
            on_epoch(epoch + 1, record)
    model.eval()
    return RunResult(model, data, config, history, path, seconds)
