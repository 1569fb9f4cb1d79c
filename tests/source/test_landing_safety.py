"""Landing is written by others: links and hostile partition keys are refused before anything is read or
written, through the plain functions and through a real Dagster materialization."""

import os
from pathlib import Path

import dagster as dg
import pytest

from waterworks.assets.lake import Lake
from waterworks.assets.resources import LakeResource, LandingResource, PiiEngineResource, StageConfigsResource
from waterworks.assets.source.catalog import load_catalog
from waterworks.assets.source.defs import raw_asset
from waterworks.assets.source.inventory import write_inventory
from waterworks.assets.source.landing import UnsafeLandingPath, open_landing_file, scan_landing
from waterworks.pipelines.settings import Settings, project_root

SOURCES = project_root() / "assets" / "source" / "sources.yaml"
SECRET = '{"text": "王小明 110101199003074514"}\n'


@pytest.fixture
def landing(tmp_path) -> Path:
    landing = tmp_path / "landing"
    (landing / "tickets").mkdir(parents=True)
    (landing / "tickets" / "good.jsonl").write_text('{"text": "hello"}\n', encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.jsonl").write_text(SECRET, encoding="utf-8")
    os.symlink(outside / "private.jsonl", landing / "tickets" / "link.jsonl")
    os.link(outside / "private.jsonl", landing / "tickets" / "hardlink.jsonl")
    os.symlink(outside, landing / "tickets" / "folder_link")
    return landing


def test_scan_refuses_links_and_never_routes_them(landing):
    catalog = load_catalog(SOURCES)
    scan = scan_landing(landing, catalog)
    assert [f.relpath for f, _ in scan.routed] == ["tickets/good.jsonl"]
    refused = dict(scan.refused)
    assert set(refused) == {"tickets/link.jsonl", "tickets/hardlink.jsonl", "tickets/folder_link"}
    assert "symbolic link" in refused["tickets/link.jsonl"] and "hard link" in refused["tickets/hardlink.jsonl"]


def test_refused_paths_are_recorded_in_inventory_and_quarantine_without_their_bytes(landing, tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    summary = write_inventory(lake, scan_landing(landing, load_catalog(SOURCES)))
    assert summary.refused == 3
    inventory = lake.read_parquet("raw", "_inventory/landing_files.parquet").to_pylist()
    assert {r["relpath"] for r in inventory if r["refused"]} == {"tickets/link.jsonl", "tickets/hardlink.jsonl",
                                                                 "tickets/folder_link"}
    record = lake.read_parquet("quarantine", "_refused/tickets/link.jsonl.parquet").to_pylist()[0]
    assert "symbolic link" in record["reason"]
    stored = b"".join(p.read_bytes() for p in (tmp_path / "lake").rglob("*") if p.is_file())
    assert b"110101199003074514" not in stored  # nothing of the linked file was read


@pytest.mark.parametrize("key", ["../outside/private.jsonl", "/etc/passwd", "tickets/../../outside/private.jsonl",
                                 "tickets/./good.jsonl", "tickets//good.jsonl", "tickets\\good.jsonl"])
def test_hostile_partition_keys_are_refused(landing, key):
    spec = load_catalog(SOURCES).get("support_tickets")
    with pytest.raises(UnsafeLandingPath, match="refused"):
        open_landing_file(landing, key, spec.matches)


def test_a_key_outside_the_sources_patterns_is_refused(landing):
    (landing / "hr").mkdir()
    (landing / "hr" / "notes.jsonl").write_text(SECRET, encoding="utf-8")
    spec = load_catalog(SOURCES).get("support_tickets")
    with pytest.raises(UnsafeLandingPath, match="no pattern"):
        open_landing_file(landing, "hr/notes.jsonl", spec.matches)
    assert open_landing_file(landing, "tickets/good.jsonl", spec.matches).size > 0


@pytest.mark.parametrize("key", ["tickets/link.jsonl", "../outside/private.jsonl"])
def test_a_raw_partition_for_a_link_or_an_escaping_key_fails_before_reading_or_writing(landing, tmp_path, key):
    spec = load_catalog(SOURCES).get("support_tickets")
    lake_root = tmp_path / "lake"
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(spec.partitions_name, [key])
        result = dg.materialize(
            [raw_asset(spec)], partition_key=key, instance=instance, raise_on_error=False,
            resources={"lake": LakeResource(root=str(lake_root), catalog_file=str(tmp_path / "catalog.duckdb")),
                       "landing": LandingResource(landing_dir=str(landing),
                                                  configs=StageConfigsResource(files={"sources": str(SOURCES)})),
                       "pii": PiiEngineResource.from_settings(Settings(home=tmp_path))})
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        assert "refused" in str(failure.event_specific_data.error)
    written = [p for p in tmp_path.rglob("*.parquet")]
    assert written == []
