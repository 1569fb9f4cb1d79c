"""A person's values taken out of a delivered file, in its own format, so the next ingest reads the rest.

Each value is replaced by ``ERASED`` where it is written — in the file's own encoding for text (CSV, JSON lines,
documents), in the XML parts of an Office file (xlsx, docx), in every text column of a SQLite file — and a mail
archive loses the messages that name the person. Ingest drops any record that holds ``ERASED``, so the record
of the person goes with the value. A compressed export is expanded, handled as its inner file and compressed
again. A format that cannot be edited in place (PDF, images) is removed from landing, and the ledger says so.
Digits match written with spaces, dashes or full width (``138 0013 8000``, ``１３８００１３８０００``).
"""

from __future__ import annotations

import bz2
import email.policy
import gzip
import io
import lzma
import re
import sqlite3
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from waterworks.governance.files import write_atomically

ERASED = "[waterworks:erased]"            # an identifier was here: ingest drops the record
ERASED_NAME = "[waterworks:erased-name]"  # a name was here: the record stays without it
TEXT_ENCODINGS = ("utf-8", "gb18030", "big5", "utf-16")
_OFFICE = (".xlsx", ".docx", ".pptx", ".xlsm")
_COMPRESSED = {".gz": gzip, ".bz2": bz2, ".xz": lzma}
_MAIL = (".mbox", ".eml")
_NOT_EDITABLE = (".pdf", ".doc", ".xls", ".ppt", ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp",
                 ".zip", ".7z", ".rar", ".tar")
_DIGIT_SEPARATOR = r"[\s\-–.()（）]?"


@dataclass(frozen=True)
class LandingErasure:
    relpath: str
    action: str  # "redacted", "messages removed", "removed (format not editable in place)", "unchanged"
    replacements: int


def value_pattern(values: Iterable[str]) -> re.Pattern | None:
    """One regex for every written form of ``values``: as given, JSON-escaped, and for digit runs any separator
    or full-width digit between the digits. Longest first, so a full ID wins over a phone inside it."""
    import json

    alternatives = set()
    for value in values:
        value = value.strip()
        if len(value) < 2:
            continue
        alternatives.add(re.escape(value))
        escaped = json.dumps(value)[1:-1]
        if escaped != value:
            alternatives.add(re.escape(escaped))
        compact = re.sub(r"[\s\-–.()（）+]", "", value)
        if compact.isdigit() or (compact[:-1].isdigit() and compact[-1:] in "Xx"):
            digits = [f"[{c}{chr(ord(c) + 0xFEE0)}]" if c.isdigit() else "[Xxｘ]" for c in compact]
            alternatives.add(_DIGIT_SEPARATOR.join(digits))
    if not alternatives:
        return None
    return re.compile("|".join(sorted(alternatives, key=len, reverse=True)))


def redact_text(text: str, pattern: re.Pattern, marker: str = ERASED) -> tuple[str, int]:
    return pattern.subn(marker, text)


def _decode(data: bytes) -> tuple[str, str] | None:
    from ..source.encoding import detect_encoding

    try:
        detected = detect_encoding(data[:1 << 20]).encoding
    except Exception:  # noqa: BLE001 — not text: the caller tries the other formats
        detected = None
    for encoding in ([detected] if detected else []) + list(TEXT_ENCODINGS):
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def _redact_text_bytes(data: bytes, pattern: re.Pattern, marker: str) -> tuple[bytes, int] | None:
    decoded = _decode(data)
    if decoded is None or "\x00" in decoded[0][:4096]:
        return None
    text, encoding = decoded
    new, count = redact_text(text, pattern, marker)
    try:
        return new.encode(encoding), count
    except UnicodeEncodeError:
        return None


def _redact_office(data: bytes, pattern: re.Pattern, marker: str) -> tuple[bytes, int]:
    """The text of an Office file lives in its XML parts (shared strings, sheets, the document body)."""
    out, total = io.BytesIO(), 0
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.endswith((".xml", ".rels")):
                text, count = pattern.subn(escape(marker), content.decode("utf-8"))
                content, total = text.encode("utf-8"), total + count
            target.writestr(item, content)
    return out.getvalue(), total


def _redact_mail(data: bytes, pattern: re.Pattern, single: bool) -> tuple[bytes, int]:
    """Messages whose decoded text names the person are removed from the archive (headers, bodies and
    attachments all go with them)."""
    chunks = [data] if single else [c for c in re.split(rb"(?m)^(?=From )", data) if c]
    if not single and not chunks[0].startswith(b"From "):
        raise ValueError("not an mbox file")
    kept, removed = [], 0
    for raw in chunks:
        body = raw if single else raw.split(b"\n", 1)[-1]  # the "From " separator line is not a header
        message = email.message_from_bytes(body, policy=email.policy.default)
        texts = [str(v) for v in message.values()]
        for part in message.walk():
            if not part.is_multipart():
                payload = part.get_payload(decode=True) or b""
                decoded = _decode(payload)
                texts.append(decoded[0] if decoded else "")
        if pattern.search("\n".join(texts)) or pattern.search(raw.decode("utf-8", "replace")):
            removed += 1
        else:
            kept.append(raw)
    if single:
        return (b"" if removed else data), removed
    return b"".join(kept), removed


def _redact_parquet(data: bytes, pattern: re.Pattern, marker: str) -> tuple[bytes, int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    total = 0
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            values = table.column(i).to_pylist()
            new = []
            for value in values:
                replaced, count = pattern.subn(marker, value) if value else (value, 0)
                new.append(replaced)
                total += count
            if new != values:
                table = table.set_column(i, field, pa.array(new, type=field.type))
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue(), total


def _redact_sqlite(path: Path, pattern: re.Pattern, marker: str) -> int:
    connection = sqlite3.connect(path)
    total = 0
    try:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')]
            rows = connection.execute(f'SELECT rowid, * FROM "{table}"').fetchall()
            for row in rows:
                changes = {}
                for column, value in zip(columns, row[1:], strict=True):
                    if isinstance(value, str) and pattern.search(value):
                        changes[column], count = pattern.subn(marker, value)
                        total += count
                if changes:
                    assignments = ", ".join(f'"{c}" = ?' for c in changes)
                    connection.execute(f'UPDATE "{table}" SET {assignments} WHERE rowid = ?',
                                       [*changes.values(), row[0]])
        connection.commit()
        if total:
            connection.execute("VACUUM")  # freed pages would still hold the old bytes
    finally:
        connection.close()
    return total


def _replace_file(path: Path, data: bytes) -> None:
    write_atomically(path, data, mode=path.stat().st_mode & 0o777)


def _redact_bytes(name: str, data: bytes, pattern: re.Pattern, marker: str) -> tuple[bytes, int, str] | None:
    """(new bytes, replacements, action) for a file called ``name``; None when its format cannot be edited."""
    suffix = Path(name).suffix.lower()
    if suffix in _NOT_EDITABLE:
        return None
    if suffix == ".parquet":
        return (*_redact_parquet(data, pattern, marker), "redacted")
    if suffix in _COMPRESSED:
        inner = _redact_bytes(name[: -len(suffix)], _COMPRESSED[suffix].decompress(data), pattern, marker)
        return None if inner is None else (_COMPRESSED[suffix].compress(inner[0]), inner[1], inner[2])
    if suffix in _OFFICE:
        return (*_redact_office(data, pattern, marker), "redacted")
    if suffix in _MAIL:
        try:
            new, removed = _redact_mail(data, pattern, suffix == ".eml")
            return new, removed, "messages removed"
        except Exception:  # noqa: BLE001 — not a readable mail file (it was quarantined): edited as text
            pass
    redacted = _redact_text_bytes(data, pattern, marker)
    return None if redacted is None else (*redacted, "redacted")


def erase_in_landing_file(landing_dir: Path, relpath: str, pattern: re.Pattern,
                          name_only: bool = False) -> LandingErasure:
    """Take the values out of one landing file in place (atomically); a file that cannot be edited is removed.
    ``name_only``: the pattern is of names, replaced by ``ERASED_NAME`` (the records stay)."""
    marker = ERASED_NAME if name_only else ERASED
    path = Path(landing_dir) / relpath
    if path.suffix.lower() in (".sqlite", ".db", ".sqlite3"):
        count = _redact_sqlite(path, pattern, marker)
        return LandingErasure(relpath, "redacted" if count else "unchanged", count)
    data = path.read_bytes()
    result = _redact_bytes(path.name, data, pattern, marker)
    if result is None:
        path.unlink()
        return LandingErasure(relpath, "removed (format not editable in place)", 0)
    new, count, action = result
    if not count:
        return LandingErasure(relpath, "unchanged", 0)
    _replace_file(path, new)
    return LandingErasure(relpath, action, count)


def holds_value(path: Path, pattern: re.Pattern, encoded: list[bytes]) -> bool:
    """Whether a file's bytes hold one of the values (in any of the usual encodings), or its decoded text does."""
    data = path.read_bytes()
    if any(form in data for form in encoded):
        return True
    suffix = path.suffix.lower()
    if suffix in _COMPRESSED:
        try:
            data = _COMPRESSED[suffix].decompress(data)
        except (OSError, EOFError, lzma.LZMAError):
            return False
        suffix = Path(path.stem).suffix.lower()
    if suffix in _MAIL:  # encoded words and base64 bodies: judged on the decoded messages
        try:
            if _redact_mail(data, pattern, suffix == ".eml")[1] > 0:
                return True
        except Exception:  # noqa: BLE001 — not a readable mail file: judged as text below
            pass
    if suffix in _OFFICE:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return any(pattern.search(archive.read(n).decode("utf-8", "replace"))
                           for n in archive.namelist() if n.endswith(".xml"))
        except zipfile.BadZipFile:
            return False
    decoded = _decode(data)
    return bool(decoded and pattern.search(decoded[0]))


def encoded_forms(values: Iterable[str]) -> list[bytes]:
    forms = set()
    for value in values:
        for encoding in TEXT_ENCODINGS[:3]:
            try:
                forms.add(value.encode(encoding))
            except UnicodeEncodeError:
                continue
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)
