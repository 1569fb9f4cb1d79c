"""Purification and sanitation at 1×, 10×, 100× the demo estate, on the local and the ray engine: wall time and
peak memory per engine, in one run (same raw zone, same machine, each engine in a fresh process).

    .venv/bin/python bench/scale.py [--scales 1 10 100] [--engines local ray] [--stages purification sanitation]
                                    [--workers 2] [--shard-rows 10000] [--base DIR] [--json OUT]

For each scale the demo generator writes the estate (``--scale``), the plant's ingest (Dagster, ingest only)
fills the raw zone once, then each engine runs the stages on a copy of it in a child process while this one
samples the child's process tree every 0.2 s (psutil): the peak of the whole tree's resident memory, and the
peak of its largest process, and per role: the driver (the stage's process), the largest Ray worker (the actors
that run the shards), the largest of Ray's services (raylet, GCS). ``--shard-rows``: the rows of a piece (a
large file is cut into row ranges of this many), which bounds what one worker holds. The tables of the two engines
are compared (they must be identical). The ratio is ray / local.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from waterworks.assets.engines import PIECE_ROWS  # noqa: E402

TABLES = {"purification": ["purified/records", "purified/documents"],   # lake tables (folders of parts) …
          "sanitation": ["sanitized/records", "sanitized/documents",       # … and single files

                         "sanitized/ledger/records.parquet", "sanitized/ledger/documents.parquet"]}



def _read(lake_root: Path, name: str):
    import polars as pl

    from waterworks.assets.lake import Lake

    if name.endswith(".parquet"):
        return pl.read_parquet(lake_root / name)
    zone, table = name.split("/", 1)
    return pl.from_arrow(Lake(str(lake_root)).read_table(zone, table))


CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from waterworks.assets.engines import make_engine
from waterworks.assets.lake import Lake
from waterworks.pipelines.settings import Settings
settings = Settings(home={home!r})
engine = make_engine({engine!r}, 0 if {engine!r} == "ray" else 1, {workers}, piece_rows={piece_rows})
lake = Lake(settings.lake_uri)
seconds = {{}}
if "purification" in {stages!r}:
    from waterworks.assets.purification.config import load_purification_config
    from waterworks.assets.purification.purify import purify_documents, purify_records
    config = load_purification_config(None)
    started = time.perf_counter()
    purify_records(lake, config, engine)
    report = purify_documents(lake, config, engine)
    seconds["purification"] = time.perf_counter() - started
    seconds["documents"] = report.rows_out
if "sanitation" in {stages!r}:
    from waterworks.assets.resources import PiiEngineResource
    from waterworks.assets.sanitation.config import load_sanitation_config
    from waterworks.assets.sanitation.sanitize import Boundary, sanitize_table
    from waterworks.governance.policy import load_policy
    pii = PiiEngineResource.from_settings(settings)
    boundary = Boundary(key=pii.pseudonym_key(), policy=load_policy(None))
    started = time.perf_counter()
    for table in ("records", "documents"):
        sanitize_table(lake, table, load_sanitation_config(None), pii.engine_config(), boundary=boundary,
                       sharding=engine)
    seconds["sanitation"] = time.perf_counter() - started
print("RESULT " + json.dumps(seconds))
"""


def role(process, root_pid: int) -> str:
    """What a process of the engine's tree is: the driver (the stage's own process), a Ray worker (its process
    title starts with ``ray::``, an actor or task running shards), Ray's services (raylet, GCS, ...) or a
    helper the driver forked (the analyzer's pool on the local engine)."""
    if process.pid == root_pid:
        return "driver"
    try:
        line = " ".join(process.cmdline()) or process.name()
    except Exception:  # noqa: BLE001 - a process gone between listing and reading
        return "other"
    if line.startswith("ray::"):
        return "ray_worker"
    if "default_worker.py" in line:
        return "ray_worker"
    if any(name in line for name in ("raylet", "gcs_server", "ray/dashboard", "log_monitor", "monitor.py",
                                     "runtime_env")):
        return "ray_service"
    return "driver_child"


def sample_tree(pid: int, peaks: dict, stop: threading.Event) -> None:
    """Every 0.2 s: the tree's resident memory, and per role (``role``) the peak of its largest process."""
    import psutil

    root = psutil.Process(pid)
    roles: dict[int, str] = {}
    while not stop.is_set():
        try:
            processes = [root, *root.children(recursive=True)]
            rss = []
            for p in processes:
                with contextlib.suppress(psutil.Error):
                    size = p.memory_info().rss
                    rss.append(size)
                    kind = roles.setdefault(p.pid, role(p, pid))
                    peaks[f"largest_{kind}"] = max(peaks.get(f"largest_{kind}", 0), size)
            peaks["tree"] = max(peaks.get("tree", 0), sum(rss))
            peaks["largest_process"] = max(peaks.get("largest_process", 0), max(rss, default=0))
            peaks["processes"] = max(peaks.get("processes", 0), len(rss))
        except psutil.Error:
            pass
        stop.wait(0.2)


def run_engine(home: Path, engine: str, stages: list[str], workers: int, piece_rows: int) -> dict:
    code = CHILD.format(root=str(ROOT), home=str(home), engine=engine, workers=workers, stages=stages,
                        piece_rows=piece_rows)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**__import__("os").environ, "RAY_USAGE_STATS_ENABLED": "0"})
    peaks: dict = {}
    stop = threading.Event()
    sampler = threading.Thread(target=sample_tree, args=(child.pid, peaks, stop), daemon=True)
    sampler.start()
    out, err = child.communicate()
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{err[-4000:]}")
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    return {**result, "wall": time.perf_counter() - started, "peak_tree_mb": peaks.get("tree", 0) / 2**20,
            "peak_process_mb": peaks.get("largest_process", 0) / 2**20, "processes": peaks.get("processes", 0),
            **{f"peak_{k[len('largest_'):]}_mb": v / 2**20 for k, v in peaks.items()
               if k.startswith("largest_") and k != "largest_process"}}


def prepare(scale: int, base: Path) -> tuple[Path, dict]:
    from waterworks.assets.source.demo_estate import generate_estate
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    home = base / f"x{scale}"
    done = home / "prepared.json"
    if done.exists():  # a raw zone this bench prepared before (--base): ingest is the slow part at 100×
        return home, json.loads(done.read_text())
    generate_estate(home / "landing", seed=7, scale=scale)
    landing = sum(f.stat().st_size for f in (home / "landing").rglob("*") if f.is_file())
    started = time.perf_counter()
    summary = run_plant(Settings(home=home), ingest_only=True, log=lambda line: None)
    if not summary.ok:
        raise SystemExit(f"ingest failed at scale {scale}: {summary.errors or summary.failed}")
    from waterworks.assets.resources import PiiEngineResource

    PiiEngineResource.from_settings(Settings(home=home)).pseudonym_key()  # one key for both engines' copies
    estate = {"landing_mb": landing / 2**20, "ingest_seconds": time.perf_counter() - started}
    shutil.rmtree(home / "landing", ignore_errors=True)
    done.write_text(json.dumps(estate))
    return home, estate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--engines", nargs="+", default=["local", "ray"])
    parser.add_argument("--stages", nargs="+", default=["purification", "sanitation"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shard-rows", type=int, default=PIECE_ROWS,
                        help="rows of a piece (a large file cut into row ranges; WATERWORKS_SHARD_ROWS)")
    parser.add_argument("--json")
    parser.add_argument("--base", help="a folder to keep the prepared raw zones in and reuse (default: a new "
                                       "temporary one)")
    args = parser.parse_args()

    base = Path(args.base) if args.base else Path(tempfile.mkdtemp(prefix="waterworks-scale-"))
    results = []
    for scale in args.scales:
        prepared, estate = prepare(scale, base)
        print(f"scale {scale}: landing {estate['landing_mb']:.1f} MB, ingest {estate['ingest_seconds']:.0f} s",
              flush=True)
        outputs = {}
        for engine in args.engines:
            home = base / f"x{scale}-{engine}"
            shutil.rmtree(home, ignore_errors=True)
            shutil.copytree(prepared / "lake" / "raw", home / "lake" / "raw")
            shutil.copytree(prepared / "secrets", home / "secrets")
            measured = run_engine(home, engine, args.stages, args.workers, args.shard_rows)
            outputs[engine] = {t: _read(home / "lake", t) for s in args.stages for t in TABLES[s]}
            row = {"scale": scale, "engine": engine, "shard_rows": args.shard_rows, **estate, **measured}
            results.append(row)
            print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
            shutil.rmtree(home / "lake" / "purified" / "analysis_memo", ignore_errors=True)
        if len(outputs) > 1:
            first, *others = outputs.values()
            same = all(other[t].equals(first[t]) for other in others for t in first)
            print(f"scale {scale}: tables identical across engines: {same}", flush=True)
            for row in results[-len(outputs):]:
                row["identical"] = same
    print("\n| scale | engine | landing MB | documents | " + " | ".join(f"{s} s" for s in args.stages)
          + " | peak tree MB | driver MB | largest Ray worker MB | largest Ray service MB |")
    print("|---|---|---|---|" + "---|" * len(args.stages) + "---|---|---|---|")
    for row in results:
        print(f"| {row['scale']}× | {row['engine']} | {row['landing_mb']:.1f} | {row.get('documents', '')} | "
              + " | ".join(f"{row.get(s, 0):.1f}" for s in args.stages)
              + f" | {row['peak_tree_mb']:.0f} | {row.get('peak_driver_mb', 0):.0f} | "
              + f"{row.get('peak_ray_worker_mb', 0):.0f} | {row.get('peak_ray_service_mb', 0):.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
