"""What each training process runs under torchrun: ``python -m models.launch spec.json`` (written by
models/distributed.py ``run_recipe``). Rebuilds the recipe's config, joins the process group, trains; rank 0
saves. Uses only the spec, never the network."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from .distributed import current_world, init_world
from .recipes import RECIPES

_PATHS = ("out_dir", "base_path")


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    module = importlib.import_module(f"waterworks.models.recipes.{spec['recipe']}")
    config_cls = RECIPES[spec["recipe"]]
    config = config_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec["config"].items()})
    kwargs = {k: Path(v) if k in _PATHS else v for k, v in spec["kwargs"].items()}
    world = current_world()
    init_world(world)
    try:
        module.run(config, **kwargs, log=print if world.is_main else (lambda line: None))
    finally:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
