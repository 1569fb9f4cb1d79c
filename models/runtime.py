"""Where and how training runs: CUDA with bf16 when present, CPU in float32 otherwise; seeding for
reproducible runs; a short description of the machine for run records."""

from __future__ import annotations

import os
import platform
import random
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    dtype: torch.dtype          # parameter / autocast dtype: bf16 on CUDA, float32 on CPU
    fused_adamw: bool
    description: dict

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def autocast(self):
        """bf16 autocast on CUDA; a no-op context on CPU (float32)."""
        if self.is_cuda and self.dtype == torch.bfloat16:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)


def pick_runtime(prefer: str = "auto") -> Runtime:
    """``prefer``: auto (CUDA if available), cuda, or cpu."""
    quiet_transformers()
    if prefer not in ("auto", "cuda", "cpu"):
        raise ValueError(f"device must be auto, cuda or cpu, not {prefer!r}")
    if prefer == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but torch sees no CUDA device")
    use_cuda = prefer != "cpu" and torch.cuda.is_available()
    if use_cuda:
        device = torch.device("cuda")
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        name = torch.cuda.get_device_name(0)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    else:
        device, dtype, name = torch.device("cpu"), torch.float32, platform.processor() or platform.machine()
    description = {"device": device.type, "device_name": name, "dtype": str(dtype).removeprefix("torch."),
                   "torch": torch.__version__, "cpu_threads": torch.get_num_threads(),
                   "cuda": torch.version.cuda or "none"}
    return Runtime(device=device, dtype=dtype, fused_adamw=use_cuda, description=description)


def quiet_transformers() -> None:
    """No per-file progress bars (loading weights, writing shards) in logs: our own progress lines suffice."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); returns a torch generator for data order."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def runtime_record(runtime: Runtime) -> dict:
    from .distributed import current_world

    return {**runtime.description, "fused_adamw": runtime.fused_adamw, "processes": current_world().size}


def recipe_setup(recipe: str, config, examples, what: str, out_dir):
    """The start every recipe shares: refuse an empty ``examples`` (naming the recipe and ``what`` it is),
    create ``out_dir``, pick the runtime from ``config.device`` and seed everything from ``config.seed``.
    Returns (out_dir, runtime, the seeded generator)."""
    from pathlib import Path

    if not examples:
        raise ValueError(f"{recipe}: {what} is empty")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir, pick_runtime(config.device), seed_everything(config.seed)
