"""Metric logging for training runs, behind one small interface so that a run's numbers can go anywhere.

A recipe talks to a ``MetricSink``: ``log_params`` once, ``log_metrics`` per step or evaluation,
``log_artifact`` for files. ``JsonlSink`` writes ``params.json`` and ``metrics.jsonl`` next to the model (the
default: every model folder carries its own history); ``ProgressSink`` prints step, loss, tokens/s and ETA
while it runs (to the Dagster log or stdout); ``FanOut`` sends to several. An MLflow sink (distribution stage)
implements the same three methods.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol


class MetricSink(Protocol):
    def log_params(self, params: dict) -> None: ...

    def log_metrics(self, metrics: dict[str, float], step: int) -> None: ...

    def log_artifact(self, path: Path) -> None: ...


class JsonlSink:
    """``params.json`` (merged across calls) and ``metrics.jsonl`` (one line per call) in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.params: dict = {}
        (self.folder / "metrics.jsonl").write_text("", encoding="utf-8")

    def log_params(self, params: dict) -> None:
        self.params.update(params)
        (self.folder / "params.json").write_text(json.dumps(self.params, indent=1, sort_keys=True, default=str),
                                                 encoding="utf-8")

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        with open(self.folder / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, **metrics}, sort_keys=True) + "\n")

    def log_artifact(self, path: Path) -> None:  # the files already live in the model folder
        pass


class ProgressSink:
    """Prints training progress every ``every`` steps: step/total, loss, learning rate, tokens/s, ETA."""

    def __init__(self, total_steps: int, log: Callable[[str], None] = print, every: int = 10,
                 label: str = "train") -> None:
        self.total, self.log, self.every, self.label = total_steps, log, max(1, every), label
        self.started = time.monotonic()

    def log_params(self, params: dict) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if "loss" not in metrics:  # evaluations: print them all
            shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items()) if isinstance(v, int | float))
            self.log(f"[{self.label}] step {step}: {shown}")
            return
        if step % self.every and step != self.total:
            return
        elapsed = time.monotonic() - self.started
        eta = elapsed / max(step, 1) * (self.total - step)
        rate = metrics.get("tokens_per_s")
        self.log(f"[{self.label}] step {step}/{self.total} loss {metrics['loss']:.4f} lr {metrics.get('lr', 0):.2e}"
                 + (f" {rate:,.0f} tokens/s" if rate else "") + f" eta {format_seconds(eta)}")

    def log_artifact(self, path: Path) -> None:
        pass


class FanOut:
    def __init__(self, sinks: Iterable[MetricSink]) -> None:
        self.sinks = list(sinks)

    def log_params(self, params: dict) -> None:
        for sink in self.sinks:
            sink.log_params(params)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        clean = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and math.isfinite(v)}
        for sink in self.sinks:
            sink.log_metrics(clean, step)

    def log_artifact(self, path: Path) -> None:
        for sink in self.sinks:
            sink.log_artifact(path)


def read_metrics(folder: Path) -> list[dict]:
    path = Path(folder) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
