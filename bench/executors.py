"""The plant under each local executor, on the same estate in one run: ``in_process`` (the default) against
``multiprocess`` (a process per step, forked from a server that preloaded Dagster, torch, spaCy and the
definitions). Each executor gets its own fresh home with a copy of one demo estate and runs the plant twice:
a full run, then a run with nothing new. Prints the seconds and the ratio multiprocess / in_process.

    .venv/bin/python bench/executors.py [--preset tiny|cpu] [--scale 1] [--max-concurrent 0]

The step processes re-import this file under the forkserver, hence the ``__main__`` guard."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--max-concurrent", type=int, default=0, help="multiprocess: 0 = the CPUs")
    args = parser.parse_args()

    from waterworks.assets.source.demo_estate import generate_estate
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    estate = Path(tempfile.mkdtemp(prefix="waterworks-estate-"))
    generate_estate(estate, seed=7, scale=args.scale)
    seconds: dict[str, tuple[float, float]] = {}
    for executor in ("in_process", "multiprocess"):
        home = Path(tempfile.mkdtemp(prefix=f"waterworks-{executor}-"))
        shutil.copytree(estate, home / "landing")
        settings = Settings(home=home, training_preset=args.preset, executor=executor,
                            max_concurrent=args.max_concurrent)
        timings = []
        for _ in range(2):
            started = time.monotonic()
            summary = run_plant(settings, log=lambda line: None)
            timings.append(time.monotonic() - started)
            assert summary.ok, (executor, summary.failed)
        seconds[executor] = (timings[0], timings[1])
        print(f"{executor:13} full run {timings[0]:7.1f} s   nothing new {timings[1]:6.1f} s", flush=True)
        shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(estate, ignore_errors=True)
    (full_a, again_a), (full_b, again_b) = seconds["in_process"], seconds["multiprocess"]
    print(f"multiprocess / in_process: full run {full_b / full_a:.2f}×, nothing new {again_b / again_a:.2f}×")


if __name__ == "__main__":
    main()
