"""Readers: one function per landing format, each turning one file into raw records plus quarantined items.

A reader raises ``FileUnreadable`` when the file as a whole cannot be read (the caller quarantines the file);
otherwise it returns every readable record and every unreadable one with its position and reason, so that
``units_in == len(records) + len(quarantined)`` always holds. Raw values stay as delivered: text formats give
string columns; Parquet and SQLite keep their own types.
"""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from waterworks.governance.pii.json_fields import depth_over

from ..duckdb_extensions import connect as connect_duckdb
from .catalog import SourceFormat, SourceSpec
from .encoding import Detection, NotTextError, check_not_binary, detect_encoding, iter_lines
from .limits import ReaderLimits, TooLarge, compression_of, logical_name, read_landing_bytes

# Exports carry long free-text fields (ticket bodies, notes); the csv module's 128 KiB default is too small.
csv.field_size_limit(64 * 1024 * 1024)

# Above this share of undecodable lines a file is not "a text file with bad lines" but the wrong thing.
MAX_BAD_LINE_SHARE = 0.5


class FileUnreadable(Exception):
    """The whole file cannot be read; the message is the quarantine reason (never file content)."""


@dataclass
class Quarantined:
    position: str  # human-readable place: "line 17", "row 5", "message 3"
    record_index: int | None
    reason: str
    raw: bytes | None = None


@dataclass
class ReadResult:
    table: pa.Table  # raw columns plus "_record_index"
    quarantined: list[Quarantined] = field(default_factory=list)
    encoding: Detection | None = None

    @property
    def units_in(self) -> int:
        return self.table.num_rows + len(self.quarantined)


# ---- helpers ---------------------------------------------------------------------------------------------------
def _string_table(rows: list[dict[str, str | None]], indexes: list[int]) -> pa.Table:
    """Rows of strings → table with columns in first-seen order; a key missing from a row is null."""
    names: dict[str, None] = {}
    for row in rows:
        for key in row:
            names.setdefault(key, None)
    columns = {name: pa.array([row.get(name) for row in rows], type=pa.string()) for name in names}
    columns["_record_index"] = pa.array(indexes, type=pa.int64())
    return pa.table(columns)


def limits_of(spec: SourceSpec) -> ReaderLimits:
    try:
        return ReaderLimits.from_options(spec.options)
    except ValueError as exc:
        raise FileUnreadable(f"source {spec.id}: {exc}") from None


def _suffix(path: Path) -> str:
    """The format suffix, read through a compression suffix (``x.csv.gz`` → ``.csv``)."""
    return Path(logical_name(path.name)).suffix.lower()


def landing_bytes(path: Path, spec: SourceSpec) -> bytes:
    """The file's bytes (expanded when compressed), within the source's caps."""
    try:
        return read_landing_bytes(path, limits_of(spec))
    except (TooLarge, ValueError) as exc:
        raise FileUnreadable(str(exc)) from exc


def _uncompressed_only(path: Path, spec: SourceSpec) -> None:
    """Formats read through their own libraries from the file itself: no compression, size within the cap."""
    if compression_of(path.name):
        raise FileUnreadable(f"a compressed {spec.format.value} file ({compression_of(path.name)}) is not read: "
                             "deliver it uncompressed")
    cap = limits_of(spec).max_file_bytes
    if path.stat().st_size > cap:
        raise FileUnreadable(f"file of {path.stat().st_size} bytes is over the cap of {cap} bytes "
                             "(options.max_file_bytes)")


def _decode(path: Path, spec: SourceSpec) -> tuple[bytes, Detection]:
    data = landing_bytes(path, spec)
    if not data:
        raise FileUnreadable("empty file")
    if spec.encoding != "auto":
        if not spec.encoding.lower().startswith(("utf-16", "utf-32")):
            try:
                check_not_binary(data[:1 << 20])
            except NotTextError as exc:
                raise FileUnreadable(f"{exc} (a file declared {spec.encoding})") from exc
        return data, Detection(spec.encoding, "declared")
    try:
        return data, detect_encoding(data)
    except NotTextError as exc:
        raise FileUnreadable(str(exc)) from exc


def _decoded_lines(data: bytes, detection: Detection, quarantined: list[Quarantined],
                   next_index: Callable[[], int]) -> Iterator[tuple[int, str]]:
    """Good lines as (line number, text); bad lines go to ``quarantined`` as one record each."""
    bad = total = 0
    try:
        for line in iter_lines(data, detection.encoding):
            total += 1
            if line.text is None:
                bad += 1
                quarantined.append(Quarantined(f"line {line.number}", next_index(line.error), line.error, line.raw))
                continue
            yield line.number, line.text
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"not valid {detection.encoding}: {exc.reason} at byte {exc.start}") from exc
    if total and bad / total > MAX_BAD_LINE_SHARE:
        raise FileUnreadable(f"{bad} of {total} lines are not valid {detection}: not a text file in that encoding")


class _Counter:
    def __init__(self) -> None:
        self.value = -1

    def __call__(self, *_reason: str | None) -> int:
        self.value += 1
        return self.value


# ---- CSV ---------------------------------------------------------------------------------------------------------
def read_csv(path: Path, spec: SourceSpec) -> ReadResult:
    data, detection = _decode(path, spec)
    delimiter = spec.options.get("delimiter") or ("\t" if _suffix(path) == ".tsv" else ",")
    max_rows = limits_of(spec).max_rows
    quarantined: list[Quarantined] = []
    counter = _Counter()
    header_seen = False
    line_numbers: list[int] = []

    def index_for_bad_line(reason: str | None = None) -> int:
        if not header_seen:
            raise FileUnreadable(f"the header line is not valid text in {detection}: {reason}")
        return counter()

    def good_lines() -> Iterator[str]:
        for number, text in _decoded_lines(data, detection, quarantined, index_for_bad_line):
            line_numbers.append(number)
            yield text + "\n"  # keeps a newline inside a quoted field that spans lines

    reader = csv.reader(good_lines(), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileUnreadable("no header line") from None
    except csv.Error as exc:
        raise FileUnreadable(f"malformed header: {exc}") from exc
    header_seen = True
    header = [name.strip() for name in header]
    if len(set(header)) != len(header) or any(not name for name in header):
        raise FileUnreadable("header has empty or repeated column names")
    rows: list[dict[str, str | None]] = []
    indexes: list[int] = []
    while True:
        start = len(line_numbers) + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number = line_numbers[-1] if line_numbers else start
            quarantined.append(Quarantined(f"line {number}", counter(), f"malformed CSV: {exc}"))
            continue
        if not row or row == [""]:
            continue  # blank line: not a record
        index = counter()
        if index >= max_rows:
            raise FileUnreadable(f"more than {max_rows} rows (options.max_rows)")
        first_line = line_numbers[start - 1] if start - 1 < len(line_numbers) else line_numbers[-1]
        if len(row) != len(header):
            raw = delimiter.join(row).encode("utf-8")
            quarantined.append(Quarantined(
                f"line {first_line}", index,
                f"ragged row: {len(row)} fields where the header has {len(header)}", raw))
            continue
        rows.append(dict(zip(header, row, strict=True)))
        indexes.append(index)
    table = _string_table(rows, indexes) if rows else _empty_with(header)
    return ReadResult(table, quarantined, detection)


def _empty_with(columns: Iterable[str]) -> pa.Table:
    fields = {name: pa.array([], type=pa.string()) for name in columns}
    fields["_record_index"] = pa.array([], type=pa.int64())
    return pa.table(fields)


# ---- JSON Lines and JSON ----------------------------------------------------------------------------------------
def _json_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _json_array_text(data: bytes, detection: Detection) -> str | None:
    """The text of ``data`` when it is one JSON document that is an array (a JSON export under any name)."""
    head = data[:64].decode(detection.encoding, errors="ignore").lstrip("\ufeff \t\r\n")
    if not head.startswith("["):
        return None
    try:
        return data.decode(detection.encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        return None


def _record_problem(value: Any, limits: ReaderLimits) -> str | None:
    if not isinstance(value, dict):
        return f"a JSON {type(value).__name__} where an object was expected"
    if depth_over(value, limits.max_json_depth):
        return f"JSON nested deeper than {limits.max_json_depth} levels (options.max_json_depth)"
    return None


def read_jsonl(path: Path, spec: SourceSpec) -> ReadResult:
    data, detection = _decode(path, spec)
    limits = limits_of(spec)
    array = _json_array_text(data, detection)
    if array is not None:
        try:
            return _read_json_array(json.loads(array), detection, limits)
        except (json.JSONDecodeError, RecursionError) as exc:
            if _suffix(path) == ".json":
                raise FileUnreadable(f"invalid JSON document: {type(exc).__name__}") from exc
            # JSON lines whose first line happens to be an array: read line by line below
    quarantined: list[Quarantined] = []
    counter = _Counter()
    rows, indexes = [], []
    for number, text in _decoded_lines(data, detection, quarantined, counter):
        if not text.strip():
            continue
        index = counter()
        if index >= limits.max_rows:
            raise FileUnreadable(f"more than {limits.max_rows} records (options.max_rows)")
        if len(text) > limits.max_record_bytes:
            quarantined.append(Quarantined(f"line {number}", index, f"record larger than the cap of "
                                           f"{limits.max_record_bytes} bytes (options.max_record_bytes)"))
            continue
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = "JSON nested too deeply" if isinstance(exc, RecursionError) else \
                f"invalid JSON ({exc.msg} at column {exc.colno})"
            quarantined.append(Quarantined(f"line {number}", index, reason, text.encode("utf-8")))
            continue
        if problem := _record_problem(value, limits):
            quarantined.append(Quarantined(f"line {number}", index, problem, text.encode("utf-8")))
            continue
        rows.append({str(k): _json_value(v) for k, v in value.items()})
        indexes.append(index)
    return ReadResult(_string_table(rows, indexes), quarantined, detection)


def _read_json_array(values: list, detection: Detection, limits: ReaderLimits) -> ReadResult:
    if len(values) > limits.max_rows:
        raise FileUnreadable(f"more than {limits.max_rows} records (options.max_rows)")
    rows, indexes, quarantined = [], [], []
    for index, value in enumerate(values):
        if problem := _record_problem(value, limits):
            raw = None if "nested" in problem else json.dumps(value, ensure_ascii=False).encode("utf-8")
            quarantined.append(Quarantined(f"item {index}", index, problem, raw))
        else:
            rows.append({str(k): _json_value(v) for k, v in value.items()})
            indexes.append(index)
    return ReadResult(_string_table(rows, indexes), quarantined, detection)


# ---- Parquet -----------------------------------------------------------------------------------------------------
def read_parquet(path: Path, spec: SourceSpec) -> ReadResult:
    import pyarrow.parquet as pq

    source = pa.BufferReader(landing_bytes(path, spec)) if compression_of(path.name) else path
    if source is path:
        _uncompressed_only(path, spec)
    try:
        table = pq.read_table(source)
    except (pa.ArrowException, OSError) as exc:
        raise FileUnreadable(f"not a readable Parquet file: {type(exc).__name__}") from exc
    table = table.append_column("_record_index", pa.array(range(table.num_rows), type=pa.int64()))
    return ReadResult(table)


# ---- Excel -------------------------------------------------------------------------------------------------------
# A workbook is a zip: refuse one that would expand past these before any XML is parsed (a zip bomb).
MAX_XLSX_EXPANDED_BYTES = 512 * 1024 * 1024
MAX_XLSX_COMPRESSION_RATIO = 200


def check_zip_expansion(path: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileUnreadable(f"not a readable .xlsx workbook: not a zip archive ({type(exc).__name__})") from exc
    expanded = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    if expanded > MAX_XLSX_EXPANDED_BYTES or expanded / packed > MAX_XLSX_COMPRESSION_RATIO:
        raise FileUnreadable(f"refused as a zip bomb: the workbook expands to {expanded >> 20} MB "
                             f"(compression ratio {expanded // packed}:1; limits "
                             f"{MAX_XLSX_EXPANDED_BYTES >> 20} MB, {MAX_XLSX_COMPRESSION_RATIO}:1)")


def read_xlsx(path: Path, spec: SourceSpec) -> ReadResult:
    import fastexcel

    _uncompressed_only(path, spec)
    check_zip_expansion(path)
    try:
        workbook = fastexcel.read_excel(path)
        sheet_name = spec.options.get("sheet") or workbook.sheet_names[0]
        sheet = workbook.load_sheet_by_name(sheet_name, dtypes="string")
        table = pa.table(sheet.to_arrow())
    except Exception as exc:  # fastexcel raises its own and calamine errors; all mean "unreadable workbook"
        raise FileUnreadable(f"not a readable .xlsx workbook: {type(exc).__name__}") from exc
    keep = [i for i in range(table.num_rows)
            if any(table.column(c)[i].is_valid and table.column(c)[i].as_py() != "" for c in range(table.num_columns))]
    table = table.take(pa.array(keep, type=pa.int64())) if len(keep) != table.num_rows else table
    table = table.append_column("_record_index", pa.array(keep, type=pa.int64()))
    table = table.append_column("_sheet", pa.array([sheet_name] * table.num_rows, type=pa.string()))
    return ReadResult(table)


# ---- e-mail ------------------------------------------------------------------------------------------------------
def _attachment_text(payload: bytes, charset: str | None) -> str:
    """Text of a text/* attachment: its declared charset, else detected (mail clients often omit it)."""
    if charset:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return payload.decode(detect_encoding(payload).encoding)
    except (NotTextError, UnicodeDecodeError):
        return payload.decode("utf-8", errors="replace")


def _part_text(part: email.message.EmailMessage) -> str:
    """A text part's content: its declared charset, else (unknown or wrong charset) detected from its bytes."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        return _attachment_text(payload, None)


def _mime_problem(message: email.message.Message, limits: ReaderLimits) -> str | None:
    """Why a message's MIME tree is refused (too deep, too many parts); an iterative walk, no recursion."""
    stack, parts = [(message, 1)], 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if depth > limits.max_mime_depth:
            return f"MIME parts nested deeper than {limits.max_mime_depth} levels (options.max_mime_depth)"
        if parts > limits.max_mime_parts:
            return f"more than {limits.max_mime_parts} MIME parts (options.max_mime_parts)"
        if part.is_multipart():
            stack.extend((child, depth + 1) for child in part.get_payload())
    return None


def _message_record(message: email.message.EmailMessage) -> dict[str, str | None]:
    def header(name: str) -> str | None:
        value = message.get(name)
        return None if value is None else str(value)

    body = message.get_body(preferencelist=("plain", "html"))
    html = message.get_body(preferencelist=("html",))
    attachments = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        item = {"filename": part.get_filename(), "content_type": part.get_content_type(), "size": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest()}
        if part.get_content_maintype() == "text":
            item["text"] = _attachment_text(payload, part.get_content_charset())
        attachments.append(item)
    return {
        "message_id": header("Message-ID"),
        "date": header("Date"),
        "from": header("From"),
        "to": header("To"),
        "cc": header("Cc"),
        "subject": header("Subject"),
        "body_text": _part_text(body) if body is not None else None,
        "body_html": _part_text(html) if html is not None and html is not body else None,
        "attachments": json.dumps(attachments, ensure_ascii=False),
        "defects": str(len(message.defects)),
    }


_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]")


def _mbox_messages(data: bytes) -> list[bytes]:
    """The messages of an mbox: each ``From `` line starts one (as the mailbox module reads it). A file with
    no ``From `` line that starts with a mail header is one message (an export of a single mail)."""
    if not data.startswith(b"From "):
        if _HEADER_LINE.match(data.lstrip(b"\r\n")):
            return [data]
        raise FileUnreadable("not an mbox file: it starts with neither a 'From ' line nor a mail header")
    messages, current = [], None
    for line in data.splitlines(keepends=True):
        if line.startswith(b"From "):
            if current is not None:
                if current and current[-1] in (b"\n", b"\r\n"):
                    current.pop()  # the blank line before a From line separates, it is not content
                messages.append(b"".join(current))
            current = []
        else:
            current.append(line)
    messages.append(b"".join(current))
    return messages


def read_email(path: Path, spec: SourceSpec) -> ReadResult:
    data = landing_bytes(path, spec)
    if not data:
        raise FileUnreadable("empty file")
    limits = limits_of(spec)
    raws = [data] if _suffix(path) == ".eml" else _mbox_messages(data)
    if len(raws) > limits.max_rows:
        raise FileUnreadable(f"more than {limits.max_rows} messages (options.max_rows)")
    rows, indexes, quarantined = [], [], []
    for index, raw in enumerate(raws):
        if b"\x00" in raw:  # RFC 5322 text never holds NUL: binary data, not a message
            quarantined.append(Quarantined(f"message {index}", index,
                                           f"binary content: {raw.count(0)} NUL bytes in a message", raw))
            continue
        if len(raw) > limits.max_record_bytes:
            quarantined.append(Quarantined(f"message {index}", index, f"message larger than the cap of "
                                           f"{limits.max_record_bytes} bytes (options.max_record_bytes)", raw))
            continue
        try:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if problem := _mime_problem(message, limits):
                quarantined.append(Quarantined(f"message {index}", index, problem, raw))
                continue
            rows.append(_message_record(message))
            indexes.append(index)
        except RecursionError:
            quarantined.append(Quarantined(f"message {index}", index, "MIME parts nested too deeply to parse", raw))
        except (LookupError, ValueError, UnicodeError, KeyError, AttributeError) as exc:
            quarantined.append(Quarantined(f"message {index}", index,
                                           f"unreadable MIME message: {type(exc).__name__}", raw))
    return ReadResult(_string_table(rows, indexes), quarantined)


# ---- documents ---------------------------------------------------------------------------------------------------
_MD_TITLE = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def read_document(path: Path, spec: SourceSpec) -> ReadResult:
    data, detection = _decode(path, spec)
    try:
        text = data.decode(detection.encoding)
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"not valid {detection}: {exc.reason} at byte {exc.start}") from exc
    suffix = _suffix(path)
    kind = {".md": "markdown", ".html": "html", ".htm": "html"}.get(suffix, "text")
    title = None
    if kind == "markdown" and (m := _MD_TITLE.search(text)):
        title = m.group(1)
    elif kind == "html" and (m := _HTML_TITLE.search(text)):
        title = _TAGS.sub("", m.group(1) or m.group(2) or "").strip()
    row = {"title": title or Path(logical_name(path.name)).stem, "body": text, "format": kind}
    return ReadResult(_string_table([row], [0]), [], detection)


# ---- SQLite (DuckDB's sqlite scanner, loaded from its PyPI wheel: no download) --------------------------------------
def read_sqlite(path: Path, spec: SourceSpec) -> ReadResult:
    _uncompressed_only(path, spec)
    with open(path, "rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise FileUnreadable("not a SQLite database (bad header)")
    table_name = spec.options.get("table")
    if not table_name:
        raise FileUnreadable(f"source {spec.id} names no table (options.table)")
    connection = connect_duckdb(extensions=("sqlite_scanner",))
    quoted = str(path).replace("'", "''")
    try:
        connection.execute(f"ATTACH '{quoted}' AS landing (TYPE sqlite, READ_ONLY)")
        names = {row[0] for row in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'landing'").fetchall()}
        if table_name not in names:
            raise FileUnreadable(f"the database has no table {table_name!r}")
        ident = '"' + table_name.replace('"', '""') + '"'
        table = connection.execute(f"SELECT * FROM landing.{ident} ORDER BY rowid").to_arrow_table()
    except FileUnreadable:
        raise
    except Exception as exc:  # duckdb raises its own error tree
        raise FileUnreadable(f"unreadable SQLite database: {type(exc).__name__}") from exc
    finally:
        connection.close()
    table = table.append_column("_record_index", pa.array(range(table.num_rows), type=pa.int64()))
    return ReadResult(table)


READERS: dict[SourceFormat, Callable[[Path, SourceSpec], ReadResult]] = {
    SourceFormat.csv: read_csv,
    SourceFormat.jsonl: read_jsonl,
    SourceFormat.json: read_jsonl,
    SourceFormat.parquet: read_parquet,
    SourceFormat.xlsx: read_xlsx,
    SourceFormat.email: read_email,
    SourceFormat.document: read_document,
    SourceFormat.sqlite: read_sqlite,
}


def read_file(path: Path, spec: SourceSpec) -> ReadResult:
    return READERS[spec.format](path, spec)
