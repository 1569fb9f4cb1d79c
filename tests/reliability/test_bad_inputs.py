"""Every kind of bad input (tests/reliability/bad_inputs.py: encodings, truncation, a 70 MB line, an .xlsx
zip bomb, 100,000-deep JSON, NUL bytes, mixed line endings, schema drift, a duplicate under a new name, …)
through the real ingest runs: no run fails, each bad file or record is quarantined with its reason (a copy of
every quarantined file kept), the tolerable oddities are read in full, and the accounting holds for every
file: units read = records out + records quarantined."""

import dagster as dg
import pytest

from tests.reliability.bad_inputs import FILE, READ, RECORDS, UNROUTED, write_bad_inputs
from waterworks.assets.lake import Lake
from waterworks.assets.source.ingest import raw_relpath


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    home = tmp_path_factory.mktemp("bad-inputs")
    items = write_bad_inputs(home / "landing")
    settings = Settings(home=home, training_preset="tiny")
    summary = run_plant(settings, log=lambda line: None, ingest_only=True)
    return settings, items, summary


def _quarantine(lake: Lake, zone_relpath: str) -> list[dict]:
    if not lake.exists("quarantine", zone_relpath):
        return []
    return lake.read_parquet("quarantine", zone_relpath, columns=["reason"]).to_pylist()


def test_at_least_twenty_kinds_of_bad_input_and_no_run_fails(ingested):
    _, items, summary = ingested
    assert len({i.kind for i in items if i.expect != READ or i.kind not in ("good", "staff")}) >= 20
    assert summary.failed == [] and len(summary.ingested) >= len(items) - 1  # erp files feed two sources


def test_each_bad_input_ends_where_it_should_with_its_reason(ingested):

    settings, items, _ = ingested
    lake, catalog = Lake(str(settings.lake_uri)), settings.configs.sources
    for item in items:
        if item.expect == UNROUTED:
            reasons = _quarantine(lake, f"_unrouted/{item.relpath}.parquet")
            assert reasons and item.reason in reasons[0]["reason"], item
            continue
        specs = catalog.route(item.relpath)
        assert specs, item
        for spec in specs:
            relpath = raw_relpath(spec, item.relpath)
            reasons = [r["reason"] for r in _quarantine(lake, relpath)]
            rows = lake.row_count("raw", relpath)
            if item.expect == FILE:
                assert len(reasons) == 1 and item.reason in reasons[0] and not lake.exists("raw", relpath), (item, reasons)
            elif item.expect == RECORDS:
                assert reasons and all(item.reason in r for r in reasons) and rows == item.rows, (item, reasons, rows)
            else:
                assert reasons == [] and rows == item.rows, (item, reasons, rows)
    copies = {p.name for p in (settings.home / "lake" / "quarantine" / "files").rglob("*") if p.is_file()}
    assert {"empty.csv", "zip_bomb.xlsx", "contract.pdf", "corrupt.sqlite"} <= copies  # nothing lost


def test_the_accounting_check_passed_for_every_file(ingested):
    settings, _, summary = ingested
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        results = [e.dagster_event.event_specific_data for run_id in summary.run_ids
                   for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
    balanced = [r for r in results if r.check_name == "accounting_balanced"]
    assert len(balanced) == len(summary.ingested) and all(r.passed for r in balanced)
