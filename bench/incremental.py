"""Incremental cost: a full plant run on the demo estate, then one new landing file at a time, each followed
by a run — every run's wall time as a share of the full run (issue 8's goal: at most 10 %).

1. ``duplicates``: 20 existing tickets under new ids. Purification drops them as duplicates, datasets and
   models stay as they were: the plant's fixed cost per incremental run (what re-runs regardless).
2. ``new text``: 20 tickets the estate has not seen (from the demo generator with another seed). Everything
   that depends on them runs: the tickets are sanitized (only they: earlier texts are remembered), the
   datasets get new versions and the models that read them are trained again.

    .venv/bin/python bench/incremental.py [--preset tiny|cpu] [--scale 1]

Prints each run's seconds, the Dagster steps that took longest in it, and the share."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import dagster as dg

    from waterworks.assets.source.demo_estate import generate_estate
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    home = Path(tempfile.mkdtemp(prefix="waterworks-incremental-"))
    generate_estate(home / "landing", seed=args.seed, scale=args.scale)
    settings = Settings(home=home, training_preset=args.preset)
    started = time.monotonic()
    full = run_plant(settings, log=lambda line: None)
    full_seconds = time.monotonic() - started
    assert full.ok, full.failed

    print(f"full run: {full_seconds:.1f} s ({len(full.ingested)} files ingested)")
    tickets = sorted((home / "landing" / "tickets").glob("*.jsonl"))[0]
    other = Path(tempfile.mkdtemp(prefix="waterworks-other-estate-"))
    generate_estate(other, seed=args.seed + 1, scale=1)
    deliveries = {
        "duplicates": _tickets(tickets, 20, "DUP"),
        "new text": _tickets(sorted((other / "tickets").glob("*.jsonl"))[0], 20, "NEW"),
    }
    for n, (label, lines) in enumerate(deliveries.items()):
        new = home / "landing" / "tickets" / f"tickets_delivery_{n}.jsonl"
        new.write_text("\n".join(lines) + "\n", encoding="utf-8")
        started = time.monotonic()
        incremental = run_plant(settings, log=lambda line: None)
        seconds = time.monotonic() - started
        assert incremental.ok, incremental.failed
        print(f"\none new file, {label} ({incremental.ingested}): {seconds:.1f} s")
        for step, step_seconds in _slowest_steps(dg, incremental.run_ids):
            print(f"  {step:45} {step_seconds:7.1f} s")
        print(f"incremental share ({label}): {seconds / full_seconds:.1%} (goal ≤ 10 %)")
    shutil.rmtree(other, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)


def _tickets(source: Path, count: int, prefix: str) -> list[str]:
    """``count`` tickets of ``source`` under new ids."""
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    return [json.dumps({**row, "ticket_id": f"{prefix}-{i}"}, ensure_ascii=False) for i, row in enumerate(rows[:count])]


def _slowest_steps(dg, run_ids: list[str], top: int = 10) -> list[tuple[str, float]]:
    steps: dict[str, float] = {}
    with dg.DagsterInstance.get() as instance:
        for run_id in run_ids:
            for event in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
                steps[event.step_key] = round(event.dagster_event.event_specific_data.duration_ms / 1000, 1)
    return sorted(steps.items(), key=lambda kv: -kv[1])[:top]


if __name__ == "__main__":
    main()
