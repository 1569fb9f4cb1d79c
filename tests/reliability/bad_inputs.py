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
    return items
