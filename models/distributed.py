"""Data-parallel training on several devices: one process per GPU started by ``torchrun`` (PyTorch's own
launcher, ``torch.distributed.run``), gradients averaged by DistributedDataParallel.

``run_recipe`` is the one entry point the plant uses: with one process it calls the recipe in this process;
with N it writes the recipe's inputs to a spec file and starts ``torchrun --nproc_per_node N -m models.launch
spec`` (models/launch.py). Each process then trains on every N-th batch (``shard``); rank 0 alone logs and
saves the model. On CUDA the processes talk over NCCL, on CPU over Gloo — so the multi-process path is tested
on a machine without GPUs too. Hugging Face ``accelerate launch`` starts the same processes with the same
environment (RANK, WORLD_SIZE, LOCAL_RANK) and works in place of torchrun.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (from torchrun's environment)."""
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def current_world() -> World:
    return World(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                 int(os.environ.get("LOCAL_RANK", 0)))


def init_world(world: World) -> None:
    """Join the process group (once per process): NCCL with one GPU per process, else Gloo."""
    import torch
    import torch.distributed as dist

    if not world.distributed or dist.is_initialized():
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(world.local_rank)
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")


def shard(batches: Iterable, world: World, per_rank: int) -> Iterator:
    """This rank's batches: every ``world.size``-th, ``per_rank`` of them, so that every rank takes the same
    number of steps (a rank with one more backward pass would wait for the others forever)."""
    taken = 0
    for i, batch in enumerate(batches):
        if taken >= per_rank:
            return
        if i % world.size == world.rank:
            taken += 1
            yield batch


def all_sum(values: list[float], world: World) -> list[float]:
    """Element-wise sum over all ranks (for loss and token counts that every rank measured on its share)."""
    if not world.distributed:
        return values
    import torch
    import torch.distributed as dist

    device = torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


class _Silent:
    """The metric sink of ranks other than 0: their numbers are summed into rank 0's."""
    def log_params(self, params: dict) -> None: ...
    def log_metrics(self, metrics: dict[str, float], step: int) -> None: ...
    def log_artifact(self, path) -> None: ...


def main_only(sink):
    """``sink`` on rank 0 (or without torchrun), a silent one on the other ranks."""
    return sink if current_world().is_main else _Silent()


def visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def processes_for(setting: int) -> int:
    """``training_processes`` setting → processes: 0 means one per visible GPU (at least one)."""
    return setting if setting > 0 else max(1, visible_gpus())


def run_recipe(recipe: str, config, kwargs: dict, processes: int = 1, log: Callable[[str], None] = print) -> dict:
    """Run ``models.recipes.<recipe>.run(config, **kwargs)`` in this process, or in ``processes`` processes under
    torchrun. ``kwargs`` must be JSON-serialisable apart from paths; the summary comes back from
    ``out_dir/training.json``."""
    import importlib

    module = importlib.import_module(f"waterworks.models.recipes.{recipe}")
    if processes <= 1:
        return module.run(config, **kwargs, log=log)
    spec_dir = Path(tempfile.mkdtemp(prefix="waterworks-launch-"))
    try:
        spec = spec_dir / "spec.json"
        spec.write_text(json.dumps({"recipe": recipe, "config": asdict(config),
                                    "kwargs": {k: str(v) if isinstance(v, Path) else v for k, v in kwargs.items()}},
                                   ensure_ascii=False), encoding="utf-8")
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
                   "-m", "waterworks.models.launch", str(spec)]
        log(f"[{recipe}] {processes} training processes (torchrun)")
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
        tail: list[str] = []
        for line in process.stdout:
            line = line.rstrip()
            tail = [*tail[-40:], line]
            if line.startswith("[") or "Error" in line:
                log(line)
        if process.wait() != 0:
            raise RuntimeError(f"{recipe}: torchrun with {processes} processes failed (exit {process.returncode}):\n"
                               + "\n".join(tail[-20:]))
    finally:
        shutil.rmtree(spec_dir, ignore_errors=True)
    return json.loads((Path(kwargs["out_dir"]) / "training.json").read_text(encoding="utf-8"))
