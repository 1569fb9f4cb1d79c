"""kill -9 in the middle of `waterworks run`, then run again: the outputs are those of an uninterrupted run
(the session plant, same estate and settings) — same sanitized rows, same dataset versions, same model keys —
with no duplicate record, and no partial file was ever visible (every Parquet file a reader can see opens)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from waterworks.assets.lake import Lake

ROOT = Path(__file__).resolve().parents[2]


def _visible_parquet(lake: Path) -> list[Path]:
    return [p for p in lake.rglob("*.parquet") if not any(part.startswith(".") for part in p.parts)]


def _sanitized(home: Path, table: str) -> pl.DataFrame:
    frame = pl.from_arrow(Lake(str(home / "lake")).read_table("sanitized", table))
    stable = [c for c in frame.columns if not c.endswith("_at")]  # wall-clock columns differ by design
    key = "record_id" if "record_id" in frame.columns else "doc_id"
    return frame.select(stable).sort(key)


def _pointers(home: Path, pattern: str) -> dict[str, str]:
    return {p.parent.name: json.loads(p.read_text())["key" if "models" in pattern else "version"]
            for p in home.glob(pattern)}


def test_kill_9_mid_run_then_rerun_gives_the_outputs_of_an_uninterrupted_run(plant, tmp_path, estate_dir):
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    reference = plant[0].home
    home = tmp_path / "home"
    shutil.copytree(estate_dir, home / "landing")
    for zone in ("raw", "quarantine"):  # the files are ingested already (freshness is read from these footers):
        shutil.copytree(reference / "lake" / zone, home / "lake" / zone)  # the run goes straight to the plant job
    shutil.copytree(reference / "secrets", home / "secrets")  # the same pseudonym key: the same identifier tokens
    env = {**os.environ, "WATERWORKS_HOME": str(home), "WATERWORKS_TRAINING_PRESET": "tiny"}
    process = subprocess.Popen([sys.executable, "-m", "waterworks.pipelines.cli", "run"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    marker = home / "lake" / "purified" / "documents" / "_table.json"  # sanitation starts right after it
    deadline = time.monotonic() + 600
    while not marker.exists():
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert not (home / "lake" / "datasets" / "chat" / "current.json").exists(), "killed too late to test anything"
    for path in _visible_parquet(home / "lake"):  # what a reader can see is whole
        pq.read_metadata(path)

    rerun = run_plant(Settings(home=home, training_preset="tiny"), log=lambda line: None)

    assert rerun.ok, rerun.errors or rerun.failed
    for path in _visible_parquet(home / "lake"):
        pq.read_metadata(path)
    for table in ("records", "documents"):
        ours, theirs = _sanitized(home, table), _sanitized(reference, table)
        key = "record_id" if "record_id" in ours.columns else "doc_id"
        assert ours[key].n_unique() == ours.height  # no duplicate record
        assert ours.equals(theirs), table
    assert _pointers(home, "lake/datasets/*/current.json") == _pointers(reference, "lake/datasets/*/current.json")
    assert _pointers(home, "models/*/current.json") == _pointers(reference, "models/*/current.json")
