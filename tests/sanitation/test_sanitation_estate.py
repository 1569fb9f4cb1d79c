"""The sanitation stage in a full plant run (real Dagster, Presidio, spaCy) over the demo estate: planted
values gone, names found, little over-redaction, blocking residual check passed, an audit ledger of counts,
and no planted value anywhere in what the run wrote about itself (event log, metadata, compute logs, log lines)."""

import json
import re

import dagster as dg
import polars as pl

from waterworks.assets.lake import Lake
from waterworks.assets.sanitation.evaluate import PATTERN_TYPES, evaluate


def _planted(settings) -> list[dict]:
    lines = (settings.landing_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_planted_values_are_gone_and_names_found(plant):
    settings, first, _ = plant
    assert first.ok, first.errors or first.failed
    result = evaluate(Lake(settings.lake_uri), settings.landing_dir / "manifest.jsonl")
    table = {t: (planted, survived) for t, planted, survived, _ in result.table()}
    assert {"CN_RESIDENT_ID", "TW_NATIONAL_ID", "HK_ID", "PHONE_NUMBER", "EMAIL_ADDRESS", "BANK_CARD"} <= set(table)
    for entity in PATTERN_TYPES:
        assert result.recall(entity) == 1.0, (entity, table.get(entity), result.survivors)
    assert table["PERSON_EN"][0] > 100 and table["PERSON_ZH"][0] > 400
    assert result.recall("PERSON_EN") >= 0.95 and result.recall("PERSON_ZH") >= 0.95, result.survivors
    assert result.recall("ADDRESS") >= 0.95
    # Tickets with nothing planted are short texts: at most 5 % of them may change.
    assert result.pii_free["support_tickets/ticket"] > 200
    assert result.over_redaction("support_tickets/ticket") <= 0.05


def test_sanitized_tables_keep_rows_and_columns_and_rederive_simplified_text(plant):
    settings, _, _ = plant
    lake = Lake(settings.lake_uri)
    for table, key in (("records", "record_id"), ("documents", "doc_id")):
        before = pl.from_arrow(lake.read_table("purified", table))
        after = pl.from_arrow(lake.read_table("sanitized", table))
        assert after.columns == before.columns and after[key].to_list() == before[key].to_list()
    docs = pl.from_arrow(lake.read_table("sanitized", "documents"))
    traditional = docs.filter(pl.col("language") == "zh-Hant")
    assert traditional.height > 0
    assert all(s is not None for s in traditional["body_zh_hans"].to_list())
    assert any("<PERSON>" in s or "<PHONE_NUMBER>" in s for s in traditional["body_zh_hans"].to_list())
    records = pl.from_arrow(lake.read_table("sanitized", "records"))
    customers = records.filter(pl.col("entity_kind") == "customer")
    assert set(customers["name"].drop_nulls().unique()) == {"<PERSON>"}
    assert set(customers["national_id"].drop_nulls().unique()) <= {"<CN_RESIDENT_ID>", "<TW_NATIONAL_ID>",
                                                                    "<HK_ID>", "<NATIONAL_ID>"}
    employees = records.filter(pl.col("entity_kind") == "employee")
    assert all(json.loads(a)["工资卡号"] == "<BANK_CARD>" for a in employees["attributes"].to_list())
    assert all(json.loads(a)["月薪"].isdigit() for a in employees["attributes"].to_list())  # not personal: kept


def test_residual_check_is_blocking_and_passed_with_counts_only(plant):
    settings, _, _ = plant
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        for asset in ("sanitized_records", "sanitized_documents"):
            for check in ("no_residual_pii", "rows_kept"):
                history = instance.event_log_storage.get_asset_check_execution_history(
                    dg.AssetCheckKey(dg.AssetKey(asset), check), limit=10)
                assert history and all(c.status.value == "SUCCEEDED" for c in history), (asset, check)
            event = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records[0]
            meta = event.asset_materialization.metadata
            assert meta["texts_changed"].value > 0 and "PERSON" in meta["findings_by_type"].value
    from waterworks.pipelines.definitions import build_definitions

    specs = {s.key.name: s for a in build_definitions(settings).assets for s in getattr(a, "check_specs", [])}
    assert specs["no_residual_pii"].blocking and specs["rows_kept"].blocking


def test_audit_ledger_has_counts_per_file_and_document_never_values(plant):
    settings, _, _ = plant
    lake = Lake(settings.lake_uri)
    records = pl.from_arrow(lake.read_parquet("sanitized", "ledger/records.parquet"))
    documents = pl.from_arrow(lake.read_parquet("sanitized", "ledger/documents.parquet"))
    assert records["doc_id"].null_count() == records.height
    assert {"crm/customers_gb18030.csv", "hr/employees.xlsx"} <= set(records["landing_path"])
    by_type = dict(records.group_by("entity_type").agg(pl.col("count").sum()).iter_rows())
    assert by_type["PERSON"] >= 400 and by_type["CN_RESIDENT_ID"] >= 300 and by_type["BANK_CARD"] >= 50
    assert documents["doc_id"].null_count() == 0
    assert set(documents["mode"]) <= {"text", "column"} and set(documents["score_band"]) <= {"high", "medium", "low"}
    assert (documents["count"] > 0).all() and set(documents["operator"]) == {"placeholder"}
    dump = "\n".join(str(row) for frame in (records, documents) for row in frame.iter_rows())
    leaked = [e["value"] for e in _planted(settings) if len(e["value"]) >= 4 and e["value"] in dump]
    assert leaked == []


def _searchable(value: str) -> bool:
    """Values long enough not to occur by chance in unrelated text (2-character Chinese names would)."""
    return len(value) >= 5 or (len(value) >= 3 and re.search(r"[\u4e00-\u9fff]", value) is not None)


def test_no_planted_value_in_event_log_metadata_compute_logs_or_log_lines(plant):
    settings, _, lines = plant
    values = {e["value"] for e in _planted(settings) if _searchable(e["value"])}
    assert len(values) > 1000
    haystacks = {"log lines": "\n".join(lines)}
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        for run in instance.get_runs():
            events = instance.all_logs(run.run_id)
            haystacks[f"event log {run.run_id}"] = "\n".join(
                f"{e.user_message}\n{e.dagster_event!r}" if e.dagster_event else e.user_message for e in events)
    # Every file Dagster wrote (event log database, compute logs of every step's stdout and stderr).
    for path in settings.dagster_home.rglob("*"):
        if path.is_file():
            haystacks[str(path)] = path.read_bytes().decode("utf-8", errors="ignore")
    assert any("no_residual_pii" in text for text in haystacks.values())  # the search does read the event log
    assert any("sanitized_documents" in text for where, text in haystacks.items() if where.startswith("event log"))
    leaks = {where: sorted(v for v in values if v in text)[:3] for where, text in haystacks.items()}
    assert {where: found for where, found in leaks.items() if found} == {}
