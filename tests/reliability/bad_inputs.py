"""Bad input of every kind our users deliver, written into a landing folder routed by the default sources
config. Each kind says what must become of it: the whole file quarantined, some records quarantined, or read
in full (a tolerable oddity such as mixed line endings) — and, for quarantine, a word its reason must hold."""

from __future__ import annotations

import gzip
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path

FILE, RECORDS, READ, UNROUTED = "file quarantined", "records quarantined", "read", "unrouted"
HEADER = "客户编号,姓名,手机,邮箱,地址"
GOOD_ROWS = ["C001,王小明,13800000000,a@example.com,北京市海淀区", "C002,李雷,13900000000,b@example.com,上海市浦东新区"]


@dataclass(frozen=True)
class BadInput:
    kind: str
    relpath: str
    expect: str             # FILE | RECORDS | READ | UNROUTED
    reason: str = ""        # a word the quarantine reason must hold
    rows: int | None = None  # records that must reach raw (READ / RECORDS)


def _csv(*lines: str, ending: str = "\n") -> bytes:
    return ending.join(lines).encode("utf-8") + ending.encode()


def _xlsx(path: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("staff")
    for r, row in enumerate([["工号", "姓名"], ["E1", "张三"], ["E2", "李四"]]):
        sheet.write_row(r, 0, row)
    workbook.close()


def _zip_bomb(path: Path, expanded_mb: int = 1024) -> None:
    """An .xlsx-shaped zip whose sheet expands to ``expanded_mb`` MB of zeros (a few MB on disk)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"0" * (1 << 20)
            for _ in range(expanded_mb):
                member.write(block)


def write_bad_inputs(landing: Path) -> list[BadInput]:
    landing = Path(landing)
    for folder in ("crm", "branch_tw", "tickets", "hr", "mail", "erp", "docs/faq", "inbox"):
        (landing / folder).mkdir(parents=True, exist_ok=True)
    items: list[BadInput] = []

    def put(relpath: str, data: bytes, *args, **kwargs) -> None:
        (landing / relpath).write_bytes(data)
        items.append(BadInput(Path(relpath).stem, relpath, *args, **kwargs))

    good = _csv(HEADER, *GOOD_ROWS)
    put("crm/good.csv", good, READ, rows=2)
    put("crm/empty.csv", b"", FILE, "empty")
    put("crm/nul_bytes.csv", good[:40] + b"\x00" * 200 + good[40:], FILE, "binary")
    put("crm/gzip_disguised.csv", gzip.compress(good * 50), FILE, "binary")
    put("crm/ragged_row.csv", _csv(HEADER, GOOD_ROWS[0], "C003,韩梅梅,13700000000", GOOD_ROWS[1]), RECORDS,
        "ragged", rows=2)
    put("crm/truncated.csv", good + '"C003,截断的'.encode(), RECORDS, "malformed", rows=2)
    put("crm/mixed_line_endings.csv", (HEADER + "\r\n" + GOOD_ROWS[0] + "\n" + GOOD_ROWS[1] + "\r\n").encode(),
        READ, rows=2)
    put("crm/huge_line.csv", _csv(HEADER, GOOD_ROWS[0], "C009,大字段," + "8" * (70 << 20) + ",x@example.com,广州",
                                   GOOD_ROWS[1]), RECORDS, "field larger than field limit", rows=2)
    put("crm/header_only.csv", _csv(HEADER), READ, rows=0)
    put("crm/schema_drift.csv", _csv("id,full_name,phone_no", "X1,赵六,13600000000"), READ, rows=1)
    put("crm/utf8_bom.csv", b"\xef\xbb\xbf" + good, READ, rows=2)
    put("crm/renamed_duplicate.csv", good, READ, rows=2)  # the same bytes under a new name
    put("branch_tw/invalid_big5.csv", "客戶編號,姓名\nT1,陳大文\n".encode("big5") + b"T2,\xff\xfe\xfa\n"
        + "T3,林小美\n".encode("big5"), RECORDS, "big5", rows=2)
    put("tickets/invalid_json.jsonl", b'{"text": "ok"}\n{"text": "broken\n{"text": "fine"}\n', RECORDS, "JSON",
        rows=2)
    put("tickets/deeply_nested.jsonl", b'{"text": "ok"}\n' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"\n",
        RECORDS, "nested", rows=1)
    put("tickets/not_objects.jsonl", b'{"text": "ok"}\n[1, 2, 3]\n"just a string"\n', RECORDS, "object", rows=1)
    put("tickets/utf16.jsonl", '{"text": "你好"}\n{"text": "再见"}\n'.encode("utf-16"), READ, rows=2)
    put("tickets/truncated_array.json", b'[{"text": "ok"}, {"text": "cut', FILE, "JSON")
    put("hr/not_a_zip.xlsx", b"name,salary\nx,1\n", FILE, "xlsx")
    xlsx = landing / "hr" / "staff.xlsx"
    _xlsx(xlsx)
    items.append(BadInput("staff", "hr/staff.xlsx", READ, rows=2))
    put("hr/truncated.xlsx", xlsx.read_bytes()[: xlsx.stat().st_size // 2], FILE, "xlsx")
    _zip_bomb(landing / "hr" / "zip_bomb.xlsx")
    items.append(BadInput("zip_bomb", "hr/zip_bomb.xlsx", FILE, "zip bomb"))
    put("mail/garbage.eml", bytes(range(256)) * 20, RECORDS, "binary", rows=0)
    put("erp/corrupt.sqlite", b"SQLite format 3\x00" + b"\x13" * 4000, FILE, "SQLite")
    empty_db = landing / "erp" / "no_tables.sqlite"
    sqlite3.connect(empty_db).execute("CREATE TABLE other (x INTEGER)").connection.commit()
    items.append(BadInput("no_tables", "erp/no_tables.sqlite", FILE, "has no table"))
    put("docs/faq/invalid_utf8.md", "# 常见问题\n\n如何开户？\n".encode() + b"\xff\xfe broken \xc3\x28\n", FILE,
        "encoding")
    put("inbox/contract.pdf", b"%PDF-1.4 not for any source", UNROUTED, "no source")

    # Exports that used to lose good data: each is read, or only its bad record is quarantined.
    tickets = b'{"text": "hello"}\n{"text": "\xe4\xbd\xa0\xe5\xa5\xbd"}\n'
    put("tickets/export.jsonl.gz", gzip.compress(tickets), READ, rows=2)
    put("crm/export.csv.zip", _zipped("export.csv", good), READ, rows=2)
    put("crm/nul_in_one_cell.csv", _csv(HEADER, GOOD_ROWS[0], "C003,韩\x00梅梅,13700000000,c@example.com,广州",
                                         GOOD_ROWS[1]), RECORDS, "NUL", rows=2)
    put("tickets/array_in_jsonl.jsonl", b'[{"text": "one"},\n {"text": "two"},\n {"text": "three"}]\n', READ, rows=3)
    put("tickets/nested_900.jsonl", b'{"text": "ok"}\n' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"\n", RECORDS,
        "nested", rows=1)
    put("mail/unknown_charset.mbox", _message("a@example.com", "plain text", "utf-8")
        + _message("b@example.com", "caf\xe9 au lait", "x-unknown-charset"), READ, rows=2)
    put("mail/single_message.mbox", _message("c@example.com", "one message, no From line", "utf-8")
        .split(b"\n", 1)[1], READ, rows=1)
    put("mail/nested_multiparts.mbox", _message("d@example.com", "fine", "utf-8") + _nested_multiparts(1000),
        RECORDS, "nested", rows=1)
    return items


def _zipped(name: str, data: bytes) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def _message(sender: str, body: str, charset: str) -> bytes:
    payload = body.encode("latin-1" if charset != "utf-8" else "utf-8")
    return (f"From {sender} Mon Jan  1 00:00:00 2024\nFrom: {sender}\nTo: team@example.com\nSubject: note\n"
            f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\n"
            "Content-Transfer-Encoding: 8bit\n\n").encode() + payload + b"\n\n"


def _nested_multiparts(depth: int) -> bytes:
    head = b"From e@example.com Mon Jan  1 00:00:00 2024\nFrom: e@example.com\nSubject: deep\nMIME-Version: 1.0\n"
    lines = [head]
    for level in range(depth):
        lines.append(f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'.encode())
    lines.append(b"Content-Type: text/plain\n\ninner\n")
    lines.extend(f"--b{level}--\n".encode() for level in reversed(range(depth)))
    return b"".join(lines) + b"\n"
