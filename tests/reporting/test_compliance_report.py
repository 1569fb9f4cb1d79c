"""The compliance report of a real plant run (the session's tiny-preset plant): written by the report job
after the plant job, valid against its JSON schema, complete (charts, sections, PIPL and GDPR articles), with
lineage down to the landing files, and never a planted value; the CLI writes the same report on demand."""

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.planted import planted_values
from waterworks.assets.products import PRODUCTS
from waterworks.governance.report.render import ReportError, build_report

CHARTS = ("pii_type_by_source", "pii_type_by_language", "operators", "funnel", "reasons", "canaries", "policy")
SECTIONS = ("summary", "sources", "pii", "operators", "funnel", "residual", "canaries", "models", "policy",
            "bundles", "controls", "piia")


def _latest(settings) -> dict:
    pointer = settings.reports_dir / "latest.json"
    assert pointer.is_file(), "the plant run wrote no compliance report"
    return json.loads(pointer.read_text(encoding="utf-8"))


def _validate(report_json: Path) -> dict:
    report = json.loads(report_json.read_text(encoding="utf-8"))
    schema = json.loads((report_json.parent / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(report)
    return report


def test_the_plant_run_reports_on_itself_and_the_json_validates(plant):
    settings, summary, _ = plant
    latest = _latest(settings)
    report = _validate(Path(latest["json"]))
    assert report["report"]["run"]["reported_run_id"] == summary.run_ids[-2]  # the plant job's run
    assert report["report"]["run"]["run_id"] == summary.run_ids[-1] == latest["run_id"]
    pii = report["pii"]
    assert pii["total_findings"] == sum(pii["by_type"].values()) > 100
    assert {"en", "zh-Hans", "structured"} <= {r["language"] for r in pii["by_type_source_language"]}
    assert {"crm_customers", "support_tickets", "mail_archive"} <= {r["source_id"] for r in pii["by_type_source_language"]}
    for row in report["funnel"]["by_source"]:  # nothing lost: every row read is kept or dropped with a reason
        assert row["raw_rows"] == row["purified_rows"] + row["dropped_rows"], row
        assert row["sanitized_rows"] == row["purified_rows"], row
    assert sum(r["count"] for r in report["funnel"]["drop_reasons"]) == report["funnel"]["totals"]["dropped_rows"]
    assert report["funnel"]["quarantine_reasons"] and report["funnel"]["totals"]["unrouted_files"] >= 1
    assert {d["name"] for d in report["datasets"]} == {"chat", "classification", "corpus"}
    assert all(d["residual"]["passed"] and d["residual"]["values_scanned"] > 0 for d in report["datasets"])
    assert {c["model"] for c in report["canaries"]} >= {"chat_model"}
    assert all(len(c["exposures"]) == c["planted"] for c in report["canaries"])
    assert {m["registered_name"] for m in report["models"] if "champion" in m["aliases"]} == {
        "waterworks-chat", "waterworks-intent-classifier"}
    assert all(d["passed"] for d in report["policy"]["training"])
    assert {d["training"] for d in report["policy"]["training"]} == {p.name for p in PRODUCTS}  # each product
    ia = report["impact_assessment"]
    assert {(a["framework"], a["article"]) for a in ia["articles"]} == {
        ("PIPL", "Art. 28"), ("PIPL", "Art. 47"), ("PIPL", "Art. 51"), ("PIPL", "Art. 55"), ("PIPL", "Art. 56"),
        ("GDPR", "Art. 5"), ("GDPR", "Art. 17"), ("GDPR", "Art. 25"), ("GDPR", "Art. 30"), ("GDPR", "Art. 32"),
        ("GDPR", "Art. 35")}
    assert report["erasure"]["requests"] == [] and report["erasure"]["retention_sweeps"] == []
    assert all(c["by"] and "Dagster run" not in c["by"] and c["by_run"] for c in report["controls"]["champions"])
    assert "CN_RESIDENT_ID" in {s["entity_type"] for s in ia["sensitive_personal_information"]}
    assert all(a["status"] == "addressed" for a in ia["articles"]), ia["conclusion"]
    controls = report["controls"]  # stated from facts checked on this run
    private = [z for z in controls["zones"] if z["private"]]
    assert {z["zone"] for z in private} == {"raw", "purified", "quarantine"}
    assert all(z["checked"] > 0 and z["open"] == 0 for z in private)
    assert controls["pseudonym_key"] == "owner-only key file in the home" and controls["mlflow_auth"] is False
    assert "restricted" not in controls["catalog_classifications"]
    assert controls["champions"] and all(c["recorded"] for c in controls["champions"])
    art32 = next(a for a in ia["articles"] if a["article"] == "Art. 32")
    assert "none readable by others" in art32["evidence"] and "#controls" in art32["evidence"]


def test_a_world_readable_private_file_or_an_unauthenticated_production_registry_needs_attention(plant):
    from waterworks.governance.report.piia import impact_assessment

    settings, _, _ = plant
    facts = json.loads(Path(_latest(settings)["json"]).read_text(encoding="utf-8"))
    facts["controls"]["zones"][0]["open"] = 3
    facts["controls"] |= {"profile": "production", "mlflow_auth": False}
    ia = impact_assessment(facts)
    art32 = next(a for a in ia["articles"] if a["article"] == "Art. 32")
    assert art32["status"] == "attention"
    assert any("readable by others" in p for p in art32["problems"])
    assert any("without authentication" in p for p in art32["problems"])


def test_the_html_is_self_contained_with_its_charts(plant):
    settings, _, _ = plant
    html = Path(_latest(settings)["html"]).read_text(encoding="utf-8")
    for chart in CHARTS:
        figure = re.search(rf'<figure data-chart="{chart}">(.*?)</figure>', html, re.S)
        assert figure and "<svg" in figure.group(1), f"chart {chart} missing"
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    assert "PII findings by type and source" in html and "Canary exposure" in html  # chart text stays text
    assert "PIPL" in html and "Art. 28" in html and "GDPR" in html and "Art. 35" in html
    assert not re.search(r'<script|(src|href)="https?://', html), "the page must not fetch or run anything"


def test_the_report_names_the_exact_landing_files_behind_each_model(plant):
    settings, _, _ = plant
    report = json.loads(Path(_latest(settings)["json"]).read_text(encoding="utf-8"))
    classifier = next(m for m in report["models"] if m["registered_name"] == "waterworks-intent-classifier"
                      and "champion" in m["aliases"])
    files = classifier["lineage"]["datasets"][0]["landing_files"]
    assert "tickets/tickets_2024.jsonl" in {f["path"] for f in files}
    for entry in files:
        assert hashlib.sha256((settings.landing_dir / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    chat = next(m for m in report["models"] if m["registered_name"] == "waterworks-chat")
    assert chat["deployment"]["classification"] == "confidential"  # the base model's mail archive
    assert chat["lineage"]["base_model"]["datasets"][0]["name"] == "corpus"


def test_no_planted_value_in_any_report(plant):
    settings, _, _ = plant
    values = planted_values(settings.landing_dir)
    texts = [p.read_text(encoding="utf-8") for p in settings.reports_dir.rglob("*") if p.is_file()]
    assert len(texts) >= 4 and any("waterworks-chat" in t for t in texts)
    haystack = "\n".join(texts)
    assert sorted(v for v in values if v in haystack)[:3] == []


def test_the_cli_writes_a_report_on_demand(plant, tmp_path):
    settings, _, _ = plant
    env = {**os.environ, "WATERWORKS_HOME": str(settings.home), "WATERWORKS_TRAINING_PRESET": "tiny"}
    done = subprocess.run([sys.executable, "-m", "waterworks.pipelines.cli", "report", "--out", str(tmp_path / "r")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "compliance report:" in done.stdout and "residual clean: True" in done.stdout
    report = _validate(tmp_path / "r" / "report.json")
    assert report["report"]["run"] == {"job": "waterworks report"}
    assert (tmp_path / "r" / "report.html").stat().st_size > 50_000


@pytest.fixture
def facts(plant) -> dict:
    settings, _, _ = plant
    report = json.loads(Path(_latest(settings)["json"]).read_text(encoding="utf-8"))
    return {k: v for k, v in report.items() if k not in ("schema_version", "impact_assessment")}


def test_a_report_that_would_hold_a_personal_value_is_not_written(facts):
    from faker import Faker

    resident_id = Faker("zh_CN").ssn()  # checksum-valid 18-digit resident ID
    facts["funnel"]["quarantine_reasons"].append({"source_id": "crm_customers", "count": 1,
                                                  "reason": f"bad value {resident_id}"})
    with pytest.raises(ReportError) as raised:
        build_report(facts)
    assert "CN_RESIDENT_ID" in str(raised.value) and resident_id not in str(raised.value)


def test_a_report_that_breaks_its_schema_names_where(facts):
    del facts["funnel"]["totals"]["raw_rows"]
    facts["sources"][0]["classification"] = "secret"
    with pytest.raises(ReportError, match=r"funnel/totals: 'raw_rows' is a required property") as raised:
        build_report(facts)
    assert "sources/0/classification" in str(raised.value)


def test_the_reports_own_ids_are_not_read_as_phone_numbers_but_a_phone_still_is():
    """A dataset version or run id of digits only (hex can be) inside a path or a label is the plant's own id;
    the same digits anywhere else are a value, and the report refuses them."""
    from waterworks.governance.report.render import residual_values

    version = "4b00351909bc"  # a real dataset version: "00351909…" reads as an international phone number
    clean = {"datasets": [{"name": "chat", "version": version}], "policy": {"dataset": f"chat@{version}",
             "uri": f"/lake/datasets/chat/{version}/train.parquet"}}
    assert residual_values(clean) == ({}, [])
    leaked = {**clean, "note": "call 13912345678"}
    found, where = residual_values(leaked)
    assert found == {"PHONE_NUMBER": 1} and where == ["/note"]
    # a data version named only by its reference ("dataset": "name@hex") is an id too: this digest of the PII
    # detector's corpora reads as a Hong Kong ID card number (d016827(1)) when taken for a value
    shipped = {"policy": {"training": [{"dataset": "pii_labelled_corpora@c3d0168271f2b075"}]}}
    assert residual_values(shipped) == ({}, [])
    assert residual_values({"note": "pii_labelled_corpora@c3d0168271f2b075"})[0] == {"HK_ID": 1}  # not a reference
