"""The parts of an erasure on their own: canonical forms and keyed hashes, the subject index, landing files
edited in their own format, and the tombstones that keep an erased person out of a re-delivery."""

import email
import json
import sqlite3
import zipfile
from pathlib import Path

import polars as pl
import pytest

from waterworks.assets.erasure.landing import (
    ERASED,
    ERASED_NAME,
    erase_in_landing_file,
    holds_value,
    value_pattern,
)
from waterworks.assets.erasure.tombstones import Tombstones
from waterworks.assets.erasure.zones import Patterns, erase_rows
from waterworks.governance.subjects import build_index, canonical, hashes_in, subject_hash

SECRET = b"a test key of sixteen+ chars"


@pytest.mark.parametrize("a,b", [("+86 138-0013-8000", "13800138000"), ("１３８００１３８０００", "13800138000"),
                                 ("+886 912 345 678", "0912-345-678"), ("Ada@Example.COM", "ada@example.com"),
                                 ("Li  Wei", "li wei"), ("11010519850307121x", "11010519850307121X")])
def test_one_canonical_form_whatever_the_writing(a, b):
    assert canonical(a) == canonical(b)
    assert subject_hash(SECRET, a) == subject_hash(SECRET, b)


def test_the_hash_needs_the_key_and_names_nobody():
    assert subject_hash(SECRET, "13800138000") != subject_hash(b"another key of sixteen chars", "13800138000")
    assert "13800138000" not in subject_hash(SECRET, "13800138000")


def test_values_are_found_again_inside_free_text():
    wanted = {subject_hash(SECRET, v) for v in ("欧阳明华", "13912345678", "li.wei@example.com", "Wei Li")}
    text = "您好，我是欧阳明华，手机139 1234 5678。Cc: Wei Li <li.wei@example.com>"
    assert hashes_in(SECRET, [text], wanted) == wanted
    assert hashes_in(SECRET, ["没有任何个人信息的一句话"], wanted) == set()


def test_the_index_maps_hashes_to_rows_and_names_only_beside_an_identifier():
    frame = pl.DataFrame({"record_id": ["r1", "r2", "r3"], "source_id": ["crm"] * 3, "landing_path": ["a.csv"] * 3,
                          "name": ["王伟", "王伟", "李娜"], "phone": ["13912345678", None, "13800000000"],
                          "note": [None, "王伟 来电", None]})
    replaced = {("PERSON", "王伟"), ("PERSON", "李娜"), ("PHONE_NUMBER", "13912345678"),
                ("PHONE_NUMBER", "13800000000"), ("LOCATION", "北京")}
    index = build_index(frame, "records", "record_id", replaced, SECRET)
    rows = {(r["row_id"], r["subject_hash"]) for r in index.iter_rows(named=True)}
    name = subject_hash(SECRET, "王伟")
    assert ("r1", name) in rows and ("r2", name) not in rows  # r2 holds the name and no identifier
    assert ("r1", subject_hash(SECRET, "13912345678")) in rows
    assert "王伟" not in str(index.to_dicts()) and "13912345678" not in str(index.to_dicts())


def test_a_value_matches_with_separators_and_full_width_digits():
    pattern = value_pattern(["13912345678"])
    for written in ("13912345678", "139-1234-5678", "139 1234 5678", "１３９１２３４５６７８"):
        assert pattern.search(f"call {written} now"), written
    assert not pattern.search("13912345670")


def test_rows_with_an_identifier_go_and_rows_with_only_the_name_lose_it():
    frame = pl.DataFrame({"doc_id": ["d1", "d2", "d3"], "body": ["欧阳明华 13912345678", "欧阳明华 来过", "无关"]})
    kept, removed, scrubbed, ids, _ = erase_rows(frame, Patterns(value_pattern(["13912345678"]),
                                                                 value_pattern(["欧阳明华"])))
    assert (removed, scrubbed, ids) == (1, 1, ["d1"])
    assert kept["body"].to_list() == [f"{ERASED_NAME} 来过", "无关"]


def test_landing_files_are_edited_in_their_own_format(tmp_path):
    ident, name = value_pattern(["110105198503071214"]), value_pattern(["欧阳明华"])
    csv = tmp_path / "crm.csv"
    csv.write_bytes("编号,姓名,身份证\r\nC1,欧阳明华,110105198503071214\r\nC2,李娜,310101199001011234\r\n".encode("gb18030"))
    assert erase_in_landing_file(tmp_path, "crm.csv", ident).action == "redacted"
    text = csv.read_bytes().decode("gb18030")
    assert ERASED in text and "110105198503071214" not in text and "李娜" in text
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text(json.dumps({"body": "我是欧阳明华"}, ensure_ascii=True) + "\n", encoding="utf-8")  # \\u escapes
    assert erase_in_landing_file(tmp_path, "t.jsonl", name, name_only=True).replacements == 1
    assert json.loads(jsonl.read_text())["body"] == f"我是{ERASED_NAME}"
    xlsx = tmp_path / "hr.xlsx"
    with zipfile.ZipFile(xlsx, "w") as book:
        book.writestr("xl/sharedStrings.xml", "<sst><si><t>欧阳明华</t></si><si><t>李娜</t></si></sst>")
    erase_in_landing_file(tmp_path, "hr.xlsx", name, name_only=True)
    assert "欧阳明华" not in zipfile.ZipFile(xlsx).read("xl/sharedStrings.xml").decode()
    db = tmp_path / "erp.sqlite"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE c (name TEXT, id TEXT)")
        connection.executemany("INSERT INTO c VALUES (?, ?)", [("欧阳明华", "110105198503071214"), ("李娜", "x")])
    assert erase_in_landing_file(tmp_path, "erp.sqlite", ident).replacements == 1
    assert b"110105198503071214" not in db.read_bytes()
    mbox = tmp_path / "inbox.mbox"
    mbox.write_text("From a Mon Jan  1 00:00:00 2024\nSubject: x\n\n身份证 110105198503071214\n\n"
                    "From b Mon Jan  1 00:00:00 2024\nSubject: y\n\nhello\n", encoding="utf-8")
    assert erase_in_landing_file(tmp_path, "inbox.mbox", ident).action == "messages removed"
    assert "110105198503071214" not in mbox.read_text() and "hello" in mbox.read_text()
    assert email.message_from_string(mbox.read_text().split("\n", 1)[1])["Subject"] == "y"
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4 110105198503071214")
    assert holds_value(pdf, ident, [b"110105198503071214"])
    assert erase_in_landing_file(tmp_path, "scan.pdf", ident).action.startswith("removed")
    assert not pdf.exists()


def test_tombstones_drop_a_re_delivered_person_at_ingest(tmp_path):
    from waterworks.assets.erasure.ledger import append
    from waterworks.assets.lake import Lake
    from waterworks.assets.source.catalog import load_catalog
    from waterworks.assets.source.ingest import ingest_file, verify_outputs
    from waterworks.assets.source.landing import scan_landing

    landing = tmp_path / "landing"
    (landing / "tickets").mkdir(parents=True)
    rows = [{"ticket_id": "T1", "body": "我是欧阳明华，手机13912345678"}, {"ticket_id": "T2", "body": "卡没到"},
            {"ticket_id": "T3", "body": f"an earlier redaction {ERASED}"}]
    (landing / "tickets/t.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    lake = Lake(str(tmp_path / "lake"))
    append(lake, {"request_id": "forget-1", "tombstones": [subject_hash(SECRET, "13912345678")]})
    catalog = load_catalog(Path(__file__).parents[2] / "assets/source/sources.yaml")
    landing_file, specs = next(iter(scan_landing(landing, catalog).routed))

    class Key:
        secret = SECRET

    report = ingest_file(lake, specs[0], landing_file, Tombstones.load(lake, lambda: Key()))
    assert (report.units_in, report.records_out, report.erased) == (3, 1, 2)
    assert verify_outputs(lake, specs[0], report)["balanced"]
    assert "13912345678" not in str(lake.read_parquet("raw", f"{specs[0].id}/tickets/t.jsonl.parquet").to_pylist())


def test_without_tombstones_nothing_is_hashed_and_the_key_is_not_needed(tmp_path):
    from waterworks.assets.lake import Lake

    def no_key():
        raise AssertionError("the key is loaded only when there is something to compare with")

    assert not Tombstones.load(Lake(str(tmp_path / "lake")), no_key).active
    assert Path(tmp_path / "lake").exists() is False
