"""Data subjects, by keyed hash only: which rows name a person, found again without keeping their values.

A subject's identifiers (national IDs, phones, e-mails, cards, passports, identifier columns) and names are
reduced to one canonical form each (``canonical``: width folded, separators dropped, a Greater China country
code stripped from phones, e-mails and names case-folded) and hashed with the pseudonym key (HMAC-SHA256):
the index in the private zone maps these hashes to the record and document ids that hold them, so an erasure
request finds every row of a person while the index itself names nobody. Without the key a hash cannot be
recomputed from a guessed value.

``candidates`` cuts a text into every piece that could be such a value (digit runs with their separators,
e-mail addresses, letter-digit codes, CJK runs of two to four characters, one to three Latin words): hashed,
they are what a delivered record is compared with when a tombstone must keep a re-delivered person out.
Error mode: a name longer than four CJK characters or three Latin words is not cut out of free text (it is
still found by its identifiers and by the value scan of an erasure).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Iterator

from .pii.checksums import fold

# A row's name is indexed only beside one of these (a bare common name says nothing about who is meant).
NAME_TYPES = frozenset({"PERSON"})
WEAK_TYPES = frozenset({"ADDRESS", "LOCATION", "ORGANIZATION", "DATE_TIME", "URL", "DOMAIN_NAME", "IP_ADDRESS",
                        "NRP", "AGE", "MEDICAL_LICENSE", "US_BANK_NUMBER"})
MIN_VALUE_CHARS = 2

_COUNTRY_CODES = (("886", "0"), ("852", ""), ("853", ""), ("86", ""))
_DIGIT_RUN = re.compile(r"[+＋]?[0-9０-９][0-9０-９ \-–.()（）]{4,}[0-9０-９XxＸｘ]")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{0,3}[0-9][A-Za-z0-9]{4,19}(?![A-Za-z0-9])")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·•]{2,}")
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'\-]*")


def is_indexed(entity_type: str) -> bool:
    return entity_type not in WEAK_TYPES


def is_strong(entity_type: str) -> bool:
    """An identifier on its own names one person: a national ID, a phone, an e-mail, a card, a staff number."""
    return is_indexed(entity_type) and entity_type not in NAME_TYPES


def canonical(value: str) -> str:
    """One form per value, whatever the writing: ``+86 138-0013-8000`` and ``１３８００１３８０００`` agree, as do
    ``Ada@Example.com`` and ``ada@example.com``, ``Li  Wei`` and ``li wei``."""
    text = unicodedata.normalize("NFKC", value).strip()
    if "@" in text:
        return text.lower()
    folded = fold(text)
    digits = folded.lstrip("+")
    if digits.isdigit() and len(digits) >= 6:
        for code, trunk in _COUNTRY_CODES:
            if (text.lstrip().startswith(("+", "＋")) or len(digits) in (11, 12, 13)) and \
                    digits.startswith(code) and 7 <= len(digits) - len(code) <= 11:
                return trunk + digits[len(code):]
        return digits
    if re.fullmatch(r"[A-Z0-9]+", folded) and any(c.isdigit() for c in folded):
        return folded
    return " ".join(text.casefold().split())


def subject_hash(secret: bytes, value: str) -> str:
    """The keyed hash of one value in its canonical form (hex, 32 characters)."""
    message = f"SUBJECT\x1f{canonical(value)}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def candidates(text: str) -> Iterator[str]:
    """Every piece of ``text`` that could be an indexed value (see the module docstring). Duplicates possible."""
    if not text:
        return
    yield text.strip()
    for match in _EMAIL.finditer(text):
        yield match.group()
    for match in _DIGIT_RUN.finditer(text):
        run = match.group()
        yield run
        parts = run.split()
        for i in range(len(parts)):  # a run may hold two numbers side by side, or one written in groups
            for j in range(i + 1, min(len(parts), i + 5) + 1):
                yield " ".join(parts[i:j])
    for match in _CODE.finditer(text):
        yield match.group()
    for match in _CJK_RUN.finditer(text):
        run = match.group()
        for size in range(2, 5):
            for i in range(len(run) - size + 1):
                yield run[i:i + size]
    words = _LATIN_WORD.findall(text)
    for i in range(len(words)):
        for size in range(1, 4):
            if i + size <= len(words):
                yield " ".join(words[i:i + size])


def hashes_in(secret: bytes, texts: Iterable[str | None], wanted: frozenset[str] | set[str]) -> set[str]:
    """The hashes of ``wanted`` that occur in any of ``texts``."""
    return set(values_in(secret, texts, wanted))


def values_in(secret: bytes, texts: Iterable[str | None], wanted: frozenset[str] | set[str]) -> dict[str, set[str]]:
    """The written forms in ``texts`` of each wanted hash: hash → the pieces that gave it (kept in memory by an
    erasure only while it runs)."""
    forms: dict[str, set[str]] = {}
    seen: set[str] = set()
    for text in texts:
        for piece in candidates(text or ""):
            if len(piece) < MIN_VALUE_CHARS or piece in seen:
                continue
            seen.add(piece)
            digest = subject_hash(secret, piece)
            if digest in wanted:
                forms.setdefault(digest, set()).add(piece)
    return forms


INDEX_SCHEMA = {"subject_hash": "String", "strong": "Boolean", "table": "String", "row_id": "String",
                "source_id": "String", "landing_path": "String"}


def build_index(frame, table: str, id_column: str, values: Iterable[tuple[str, str]], secret: bytes):
    """The subject index of one table (a polars frame with ``id_column``, ``source_id`` and ``landing_path``):
    one row per (value hash, row) for every replaced ``(entity type, value)`` found in the row's text columns.
    A name is indexed only in a row that also holds a strong identifier. Never holds a value."""
    import polars as pl

    kinds: dict[str, bool] = {}
    for entity_type, value in values:
        value = value.strip()
        if len(value) >= MIN_VALUE_CHARS and is_indexed(entity_type):
            kinds[value] = kinds.get(value, False) or is_strong(entity_type)
    schema = {name: getattr(pl, dtype) for name, dtype in INDEX_SCHEMA.items()}
    texts = [c for c, dtype in frame.schema.items() if dtype == pl.String and c not in (id_column, "source_id", "landing_path", "file_sha256")]
    if not kinds or not texts or frame.height == 0:
        return pl.DataFrame(schema=schema)
    patterns = sorted(kinds)
    found = (frame.select(pl.col(id_column).alias("row_id"), "source_id", "landing_path",
                          pl.concat_list([pl.col(c).str.extract_many(patterns, overlapping=True)
                                          .fill_null(pl.lit([], dtype=pl.List(pl.String))) for c in texts])
                          .alias("value"))
             .explode("value").drop_nulls("value").unique(["row_id", "value"]))
    hashes = {v: subject_hash(secret, v) for v in found.get_column("value").unique().to_list()}
    found = found.with_columns(pl.col("value").replace_strict(hashes).alias("subject_hash"),
                               pl.col("value").replace_strict(kinds, return_dtype=pl.Boolean).alias("strong"))
    with_identifier = found.filter(pl.col("strong")).get_column("row_id").unique()
    found = found.filter(pl.col("strong") | pl.col("row_id").is_in(with_identifier.implode()))
    return (found.with_columns(pl.lit(table).alias("table")).select(list(schema))
            .unique(["subject_hash", "row_id"]).sort(["subject_hash", "row_id"]).cast(schema))
