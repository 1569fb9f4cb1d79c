"""Incremental cost: a full plant run on the demo estate, then one new landing file (a small ticket export),
then the run again — the second run's wall time as a share of the first (issue 8's goal: at most 10 %).
The new file repeats 20 existing tickets under new ids, so purification drops them as duplicates and the
datasets and models stay as they were: this measures the plant's fixed cost per incremental run (what
re-runs regardless), not the cost of retraining on new data.

    .venv/bin/python bench/incremental.py [--profile tiny|cpu] [--scale 1]

Prints each run's seconds, the Dagster steps that ran in the incremental run, and the share."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()

    import dagster as dg

    from assets.source.demo_estate import generate_estate
    from pipelines.run import run_plant
    from pipelines.settings import Settings

    home = Path(tempfile.mkdtemp(prefix="waterworks-incremental-"))
    generate_estate(home / "landing", seed=7, scale=args.scale)
    settings = Settings(home=home, training_profile=args.profile)
    started = time.monotonic()
    full = run_plant(settings, log=lambda line: None)
    full_seconds = time.monotonic() - started
    assert full.ok, full.failed

    tickets = sorted((home / "landing" / "tickets").glob("*.jsonl"))[0]
    lines = tickets.read_text(encoding="utf-8").splitlines()[:20]
    new = home / "landing" / "tickets" / "tickets_new_delivery.jsonl"
    new.write_text("\n".join(json.dumps({**json.loads(line), "ticket_id": f"NEW-{i}"}, ensure_ascii=False)
                             for i, line in enumerate(lines) if line.strip().startswith("{")) + "\n",
                   encoding="utf-8")
    started = time.monotonic()
    incremental = run_plant(settings, log=lambda line: None)
    incremental_seconds = time.monotonic() - started
    assert incremental.ok, incremental.failed

    with dg.DagsterInstance.get() as instance:
        steps = {}
        for run_id in incremental.run_ids:
            for event in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
                steps[event.step_key] = round(event.dagster_event.event_specific_data.duration_ms / 1000, 1)
    print(f"full run: {full_seconds:.1f} s ({len(full.ingested)} files ingested)")
    print(f"one new file ({incremental.ingested}): {incremental_seconds:.1f} s")
    for step, seconds in sorted(steps.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {step:45} {seconds:7.1f} s")
    print(f"incremental share: {incremental_seconds / full_seconds:.1%} (goal ≤ 10 %)")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
