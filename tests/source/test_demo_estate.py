import hashlib
import json
from pathlib import Path

from waterworks.assets.source.demo_estate import generate_estate
from waterworks.governance.pii.checksums import (
    bank_card_valid,
    cn_resident_id_valid,
    hk_id_valid,
    tw_national_id_valid,
)


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(tmp_path, estate_dir):
    generate_estate(tmp_path / "again", seed=7, scale=1)
    assert _digests(tmp_path / "again") == _digests(estate_dir)


def test_scale_multiplies_volumes(tmp_path, estate_dir):
    summary = generate_estate(tmp_path / "big", seed=7, scale=2)
    small = json.loads((estate_dir / "estate.json").read_text())
    assert summary["files"]["crm/customers_gb18030.csv"]["units"]["crm_customers"] == \
        2 * small["files"]["crm/customers_gb18030.csv"]["units"]["crm_customers"]


def test_planted_identifiers_are_checksum_valid(estate_dir):
    entries = [json.loads(line) for line in (estate_dir / "manifest.jsonl").read_text().splitlines()]
    by_type: dict[str, list[str]] = {}
    for entry in entries:
        by_type.setdefault(entry["type"], []).append(entry["value"])
    assert {"PERSON", "CN_RESIDENT_ID", "TW_NATIONAL_ID", "HK_ID", "PHONE_NUMBER", "EMAIL_ADDRESS", "ADDRESS",
            "BANK_CARD", "PASSPORT"} <= set(by_type)
    assert all(cn_resident_id_valid(v) for v in by_type["CN_RESIDENT_ID"])
    assert all(hk_id_valid(v) for v in by_type["HK_ID"])
    assert all(tw_national_id_valid(v) for v in by_type["TW_NATIONAL_ID"])
    assert all(bank_card_valid(v) for v in by_type["BANK_CARD"])
    assert any(v.startswith("62") for v in by_type["BANK_CARD"])  # UnionPay


def test_text_spans_point_at_the_planted_values(estate_dir):
    tickets = [json.loads(line) for line in (estate_dir / "tickets/tickets_2024.jsonl").read_text().splitlines()]
    entries = [json.loads(line) for line in (estate_dir / "manifest.jsonl").read_text().splitlines()]
    spans = [e for e in entries if e["file"] == "tickets/tickets_2024.jsonl" and e["location"]["field"] == "body"]
    assert len(spans) > 50
    for e in spans:
        loc = e["location"]
        assert tickets[loc["row"]]["body"][loc["start"]:loc["end"]] == e["value"]


def test_every_estate_source_and_broken_kind_is_present(estate_dir):
    files = json.loads((estate_dir / "estate.json").read_text())["files"]
    sources = {s for f in files.values() for s in f["units"]}
    assert sources == {"crm_customers", "tw_branch_customers", "support_tickets", "hr_employees", "mail_archive",
                       "knowledge_base", "erp_customers", "erp_orders"}
    broken = {f["file_quarantined"] for f in files.values() if f["file_quarantined"]}
    assert {"empty file", "binary content", "not a readable .xlsx workbook"} <= broken
    record_reasons = {f["reason"] for f in files.values() if f["reason"]}
    assert record_reasons == {"ragged row", "invalid bytes for big5", "invalid JSON"}
    assert (estate_dir / "crm/customers_gb18030.csv").read_bytes().decode("gb18030").startswith("客户编号")
    assert (estate_dir / "branch_tw/customers_big5.csv").read_bytes().decode("big5").startswith("客戶編號")
