"""How long ``waterworks forget`` takes, and what it re-runs: the demo estate at scale 1 and at a larger scale
(10× rows per source by default), one subject planted across three sources, the plant run once, then the
erasure (forget_job: resolve, every zone, landing, datasets, models, proof scan) and the rebuild (the plant run
that re-ingests the edited files, rebuilds purified → datasets, retrains what was retired, and completes the
request) timed apart.

    .venv/bin/python bench/forget.py                  # scales 1 and 10, tiny training preset
    .venv/bin/python bench/forget.py --scales 1       # the demo estate only

The erasure's own time is what an operator waits for before the person is gone from every zone; the rebuild is
the ordinary incremental plant run (its time is dominated by sanitation of the edited files and retraining).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(scale: int, preset: str) -> dict:
    from tests.erasure.test_forget import ID, plant_subject
    from waterworks.assets.source.demo_estate import generate_estate
    from waterworks.pipelines.erasure import forget_subject, subject_file_for
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    home = Path(tempfile.mkdtemp(prefix=f"forget-bench-x{scale}-"))
    generate_estate(home / "landing", seed=7, scale=scale)
    plant_subject(home / "landing")
    settings = Settings(home=home, training_preset=preset)
    started = time.perf_counter()
    first = run_plant(settings, log=lambda line: None)
    plant_seconds = time.perf_counter() - started
    if not first.ok:
        raise SystemExit(f"the plant run failed: {first.errors or first.failed}")
    started = time.perf_counter()
    entry, _ = forget_subject(settings, subject_file_for(settings, ID), actor="bench", rebuild=False)
    erase_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rebuild = run_plant(settings, log=lambda line: None)
    rebuild_seconds = time.perf_counter() - started
    return {"scale": scale, "plant_run_s": round(plant_seconds, 1), "forget_erase_s": round(erase_seconds, 1),
            "rebuild_s": round(rebuild_seconds, 1), "rebuild_ok": rebuild.ok,
            "re_ingested_files": len(rebuild.ingested),
            "rows_removed": sum(z.get("rows_removed", 0) for z in entry["zones"].values()),
            "landing_files_edited": len(entry["landing"]), "datasets_deleted": len(entry["datasets_deleted"]),
            "models_retired": len(entry["models_retired"]), "home": str(home)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--preset", default="tiny")
    args = parser.parse_args()
    print("| scale | plant run (s) | forget: erase + proof (s) | rebuild + retrain (s) | files re-ingested | "
          "rows removed | landing files edited | dataset versions deleted | models retired |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scale in args.scales:
        r = measure(scale, args.preset)
        print(f"| {r['scale']} | {r['plant_run_s']} | {r['forget_erase_s']} | {r['rebuild_s']} | "
              f"{r['re_ingested_files']} | {r['rows_removed']} | {r['landing_files_edited']} | "
              f"{r['datasets_deleted']} | {r['models_retired']} |", flush=True)


if __name__ == "__main__":
    main()
