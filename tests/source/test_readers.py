import email.policy
import sqlite3
from email.message import EmailMessage

import pytest

from waterworks.assets.source.catalog import SourceFormat, SourceSpec
from waterworks.assets.source.readers import (
    FileUnreadable,
    read_csv,
    read_email,
    read_jsonl,
    read_sqlite,
    read_xlsx,
)


def spec(fmt: SourceFormat, **options) -> SourceSpec:
    return SourceSpec(id="t", description="t", owner="team:t", classification="internal", legal_basis="test",
                      retention_days=1, patterns=("*",), format=fmt, options=options)


def test_csv_mixed_line_endings_and_quoted_newlines(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b'id,note\r\n1,first\n2,"two\nlines"\r3,third\r\n')
    result = read_csv(path, spec(SourceFormat.csv))
    assert result.table.column("note").to_pylist() == ["first", "two\nlines", "third"]
    assert result.table.column("_record_index").to_pylist() == [0, 1, 2]


def test_csv_ragged_rows_are_quarantined_with_position(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n", encoding="utf-8")
    result = read_csv(path, spec(SourceFormat.csv))
    assert result.table.column("a").to_pylist() == ["1", "10"]
    assert [(q.position, q.record_index) for q in result.quarantined] == [("line 3", 1), ("line 4", 2)]
    assert all(q.reason.startswith("ragged row") for q in result.quarantined)
    assert result.units_in == 4


def test_jsonl_bad_lines_are_quarantined_and_nested_values_kept_as_json(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1, "customer": {"name": "x"}}\n{"id": 2, "body": "cut\n[1, 2]\n\n{"id": 3}\n',
                    encoding="utf-8")
    result = read_jsonl(path, spec(SourceFormat.jsonl))
    assert result.table.column("id").to_pylist() == ["1", "3"]
    assert result.table.column("customer").to_pylist() == ['{"name": "x"}', None]
    reasons = [q.reason for q in result.quarantined]
    assert reasons[0].startswith("invalid JSON") and "list where an object" in reasons[1]
    assert result.units_in == 4


def test_xlsx_that_is_not_a_zip_is_unreadable(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PAYROLL\tnot a workbook\n")
    with pytest.raises(FileUnreadable, match="not a readable .xlsx"):
        read_xlsx(path, spec(SourceFormat.xlsx))


def test_mbox_decodes_rfc2047_subjects_qp_and_base64_bodies_and_attachments(tmp_path):
    chunks = []
    for k, cte in enumerate(("quoted-printable", "base64")):
        msg = EmailMessage(policy=email.policy.default)
        msg["From"] = "客服 <a@example.com>"
        msg["To"] = "b@example.com"
        msg["Subject"] = f"关于订单 {k} 的退款问题"
        msg["Message-ID"] = f"<{k}@x>"
        msg.set_content("您好，请退款。\n谢谢", charset="gb18030" if k else "utf-8", cte=cte)
        if k:
            msg.add_attachment("姓名,手机\n".encode(), maintype="text", subtype="csv", filename="名单.csv")
        raw = msg.as_bytes()
        assert b"=?" in raw  # the subject is RFC 2047 encoded on the wire
        chunks.append(b"From MAILER-DAEMON Mon Jan  1 09:00:00 2024\n" + raw + b"\n")
    path = tmp_path / "box.mbox"
    path.write_bytes(b"".join(chunks))
    result = read_email(path, spec(SourceFormat.email))
    table = result.table.to_pylist()
    assert [r["subject"] for r in table] == ["关于订单 0 的退款问题", "关于订单 1 的退款问题"]
    assert all(r["body_text"].startswith("您好，请退款。") for r in table)
    assert '"filename": "名单.csv"' in table[1]["attachments"] and "姓名,手机" in table[1]["attachments"]


def test_sqlite_reads_a_named_table_and_rejects_a_missing_one(tmp_path):
    path = tmp_path / "erp.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO customers VALUES (?, ?)", [(1, "周建国"), (2, "李嘉欣")])
    result = read_sqlite(path, spec(SourceFormat.sqlite, table="customers"))
    assert result.table.column("name").to_pylist() == ["周建国", "李嘉欣"]
    with pytest.raises(FileUnreadable, match="no table 'orders'"):
        read_sqlite(path, spec(SourceFormat.sqlite, table="orders"))
    not_db = tmp_path / "x.sqlite"
    not_db.write_text("hello")
    with pytest.raises(FileUnreadable, match="not a SQLite database"):
        read_sqlite(not_db, spec(SourceFormat.sqlite, table="customers"))


def test_an_unforeseen_reader_error_quarantines_the_file_instead_of_failing(tmp_path, monkeypatch):
    from waterworks.assets.lake import Lake
    from waterworks.assets.source import ingest
    from waterworks.assets.source.landing import LandingFile, file_sha256

    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")

    def broken_reader(p, s):
        raise KeyError("boom")

    monkeypatch.setattr(ingest, "read_file", broken_reader)
    landing_file = LandingFile("x.csv", path, path.stat().st_size, 0, file_sha256(path))
    report = ingest.ingest_file(Lake(str(tmp_path / "lake")), spec(SourceFormat.csv), landing_file)
    assert report.file_quarantined and report.balanced
    assert report.quarantine_reasons == {"unexpected reader error: KeyError": 1}
