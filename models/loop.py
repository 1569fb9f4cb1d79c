"""One small training loop shared by the recipes: AdamW (fused on CUDA), linear warm-up then cosine decay,
gradient accumulation and clipping, bf16 autocast on CUDA, periodic evaluation, metrics to a sink.

The recipe supplies the model, a function giving each epoch's batches, and a loss function returning
``(loss, tokens)`` for a batch; the loop knows nothing about language models or classifiers.

Under torchrun (models/distributed.py) the same loop trains data-parallel: the model is wrapped in
DistributedDataParallel, each process takes its share of every epoch's batches, logged loss and tokens are
summed over the processes, and only rank 0 writes metrics."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch

from .distributed import all_sum, current_world, init_world, shard
from .runtime import Runtime
from .tracking import MetricSink


@dataclass(frozen=True)
class LoopConfig:
    epochs: float = 1.0
    max_steps: int | None = None      # optimizer steps; caps epochs when set
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    min_lr_ratio: float = 0.1
    grad_accum: int = 1
    grad_clip: float = 1.0
    eval_every: int = 0               # optimizer steps; 0: only at the end


def loop_config(config, **overrides) -> LoopConfig:
    """The loop of a recipe config (models/recipes/configs.py ``RecipeConfig``): its epochs, step cap, learning
    rate, warm-up and weight decay, and the recipe's own ``overrides``."""
    values = {"epochs": config.epochs, "max_steps": config.max_steps, "lr": config.lr,
              "warmup_ratio": config.warmup_ratio, "weight_decay": config.weight_decay}
    return LoopConfig(**{**values, **overrides})


def recipe_sink(out_dir, total_steps: int, log, label: str):
    """Where a recipe's params and per-step metrics go: the model folder's files (``params.json``,
    ``metrics.jsonl``; MLflow logs them afterwards) and progress lines about ten times a run — from the main
    process only."""
    from .distributed import main_only
    from .tracking import FanOut, JsonlSink, ProgressSink

    return main_only(FanOut([JsonlSink(out_dir), ProgressSink(total_steps, log, every=max(1, total_steps // 10),
                                                             label=label)]))


@dataclass
class TrainResult:
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)   # per optimizer step
    evaluations: list[dict] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def first_and_last_loss(self, window: int = 5) -> tuple[float, float]:
        head, tail = self.losses[:window], self.losses[-window:]
        return sum(head) / len(head), sum(tail) / len(tail)


def cosine_schedule(step: int, total: int, warmup: int, min_ratio: float) -> float:
    if step < warmup:
        return (step + 1) / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(param_groups: list[dict], config: LoopConfig, runtime: Runtime) -> torch.optim.AdamW:
    """Param groups may carry their own ``lr`` (a classifier head learns faster than its encoder); biases and
    norms get no weight decay."""
    groups = []
    for group in param_groups:
        params = [p for p in group["params"] if p.requires_grad]
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        lr = group.get("lr", config.lr)
        groups += [{"params": decay, "lr": lr, "weight_decay": config.weight_decay},
                   {"params": no_decay, "lr": lr, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    for g in groups:
        g["base_lr"] = g["lr"]
    return torch.optim.AdamW(groups, fused=runtime.fused_adamw)


def planned_steps(batches_per_epoch: int, config: LoopConfig) -> int:
    """Optimizer steps the loop will take (each process takes its share of the batches under torchrun)."""
    steps_per_epoch = max(1, batches_per_epoch // current_world().size // config.grad_accum)
    total = math.ceil(steps_per_epoch * config.epochs)
    if config.max_steps:
        total = min(total, config.max_steps) if config.epochs else config.max_steps
    return total


def train_loop(model: torch.nn.Module, epoch_batches: Callable[[int], Iterable[dict]], batches_per_epoch: int,
               loss_fn: Callable[[torch.nn.Module, dict], tuple[torch.Tensor, int]], runtime: Runtime,
               config: LoopConfig, sink: MetricSink, param_groups: list[dict] | None = None,
               evaluate: Callable[[], dict] | None = None) -> TrainResult:
    world = current_world()
    init_world(world)
    per_rank = batches_per_epoch // world.size
    if world.distributed and per_rank < config.grad_accum:
        raise ValueError(f"training data gives {batches_per_epoch} batch(es) per epoch: too few for {world.size} "
                         f"processes of {config.grad_accum} micro-batch(es) per step")
    total = planned_steps(batches_per_epoch, config)
    warmup = int(total * config.warmup_ratio)
    optimizer = make_optimizer(param_groups or [{"params": list(model.parameters())}], config, runtime)
    trainable = [p for g in optimizer.param_groups for p in g["params"]]
    result = TrainResult()
    started = time.monotonic()
    model.train()
    forward = model
    if world.distributed:
        forward = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[torch.cuda.current_device()] if runtime.is_cuda else None)
    step, micro, window_loss, window_tokens = 0, 0, 0.0, 0
    epoch = 0
    while step < total:
        seen = 0
        batches = epoch_batches(epoch)
        for batch in shard(batches, world, per_rank) if world.distributed else batches:
            seen += 1
            batch = {k: v.to(runtime.device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}
            with runtime.autocast():
                loss, tokens = loss_fn(forward, batch)
            (loss / config.grad_accum).backward()
            window_loss += loss.item() / config.grad_accum
            window_tokens += tokens
            micro += 1
            if micro % config.grad_accum:
                continue
            scale = cosine_schedule(step, total, warmup, config.min_lr_ratio)
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * scale
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if world.distributed:  # the step's loss over all processes' batches, and all their tokens
                summed_loss, window_tokens = all_sum([window_loss, window_tokens], world)
                window_loss, window_tokens = summed_loss / world.size, int(window_tokens)
            result.losses.append(window_loss)
            result.tokens += window_tokens
            elapsed = time.monotonic() - started
            if world.is_main:
                sink.log_metrics({"loss": window_loss, "lr": optimizer.param_groups[0]["lr"],
                                  "tokens_per_s": result.tokens / elapsed if elapsed else 0.0, "epoch": epoch}, step)
            window_loss, window_tokens = 0.0, 0
            if evaluate and config.eval_every and step % config.eval_every == 0 and step < total:
                result.evaluations.append(_evaluate(model, evaluate, sink, step, world.is_main))
            if step >= total:
                break
        if not seen or (seen < config.grad_accum and step == 0):
            raise ValueError(f"training data gives {seen} batch(es) per epoch, fewer than one optimizer step "
                             f"needs ({config.grad_accum})")
        epoch += 1
    if runtime.is_cuda:
        torch.cuda.synchronize()
    result.steps, result.seconds = step, time.monotonic() - started
    if evaluate:
        result.evaluations.append(_evaluate(model, evaluate, sink, step, world.is_main))
    return result


def _evaluate(model: torch.nn.Module, evaluate: Callable[[], dict], sink: MetricSink, step: int,
              log: bool = True) -> dict:
    """Every process evaluates the (identical) model on the whole validation set; only rank 0 logs."""
    model.eval()
    with torch.no_grad():
        metrics = evaluate()
    model.train()
    if log:
        sink.log_metrics(metrics, step)
    return {"step": step, **metrics}
