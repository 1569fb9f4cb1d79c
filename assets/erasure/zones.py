"""Rows of a person taken out of the lake's tables, zone by zone, in place (each file rewritten atomically).

A row goes when it is one of the person's (its id was found by the subject index) or holds one of their
identifiers; a row that only mentions their name keeps its other content and loses the name
(``ERASED_NAME``): a name alone is shared by many people, an identifier is not.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from ..lake import Lake
from .landing import ERASED_NAME

ROW_ID_COLUMNS = ("record_id", "doc_id", "row_id")
_DECODINGS = ("utf-8", "gb18030", "big5")


@dataclass
class Patterns:
    strong: re.Pattern | None   # the person's identifiers, every written form
    name: re.Pattern | None     # their names
    row_ids: frozenset[str] = frozenset()

    def row_is_theirs(self, texts: list[str | None], row_id: str | None = None) -> bool:
        if row_id is not None and row_id in self.row_ids:
            return True
        return self.strong is not None and any(t and self.strong.search(t) for t in texts)

    def scrub_name(self, text: str | None) -> str | None:
        return text if text is None or self.name is None else self.name.sub(ERASED_NAME, text)

    def mentions(self, text: str | None) -> bool:
        return bool(text) and any(p is not None and p.search(text) for p in (self.strong, self.name))


@dataclass
class ZoneCounts:
    rows_removed: Counter = field(default_factory=Counter)    # "zone/relpath" → rows
    names_scrubbed: Counter = field(default_factory=Counter)  # "zone/relpath" → rows that lost a name
    files_removed: list[str] = field(default_factory=list)
    removed_ids: set[str] = field(default_factory=set)        # record and document ids of the rows removed
    removed_texts: list[str] = field(default_factory=list)    # their texts, for the analysis memo's digests

    def by_zone(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for counter, what in ((self.rows_removed, "rows_removed"), (self.names_scrubbed, "names_scrubbed")):
            for where, n in counter.items():
                zone = where.split("/", 1)[0]
                out.setdefault(zone, {}).setdefault(what, 0)
                out[zone][what] += n
        for where in self.files_removed:
            zone = where.split("/", 1)[0]
            out.setdefault(zone, {}).setdefault("files_removed", 0)
            out[zone]["files_removed"] += 1
        return out


def _text(value) -> str | None:
    if isinstance(value, bytes):
        for encoding in _DECODINGS:
            try:
                return value.decode(encoding)
            except UnicodeDecodeError:
                continue
        return value.decode("utf-8", "replace")
    return value


def erase_rows(frame: pl.DataFrame, patterns: Patterns, keep_texts: bool = False
               ) -> tuple[pl.DataFrame, int, int, list[str], list[str]]:
    """(frame without the person's rows and with their names scrubbed, rows removed, rows scrubbed, ids of
    the rows removed, their texts when ``keep_texts``)."""
    texts = [c for c, t in frame.schema.items() if t in (pl.String, pl.Binary)]
    id_column = next((c for c in ROW_ID_COLUMNS if c in frame.columns), None)
    if not texts or frame.height == 0:
        return frame, 0, 0, [], []
    columns = [frame.get_column(c).to_list() for c in texts]
    ids = frame.get_column(id_column).to_list() if id_column else [None] * frame.height
    theirs = []
    for i, row in enumerate(zip(*columns, strict=True)):
        theirs.append(patterns.row_is_theirs([_text(v) for v in row], ids[i]))
    removed_ids = [i for i, t in zip(ids, theirs, strict=True) if t and i is not None]
    removed_texts = [v for row, t in zip(zip(*columns, strict=True), theirs, strict=True) if t and keep_texts
                     for v in row if isinstance(v, str)]
    kept = frame.filter(pl.Series([not t for t in theirs]))
    scrubbed = 0
    if patterns.name is not None and kept.height:
        strings = [c for c in texts if kept.schema[c] == pl.String]
        before = [kept.get_column(c).to_list() for c in strings]
        after = [[patterns.scrub_name(v) for v in values] for values in before]
        scrubbed = sum(any(a != b for a, b in zip(row_after, row_before, strict=True))
                       for row_after, row_before in zip(zip(*after, strict=True), zip(*before, strict=True),
                                                        strict=True)) if strings else 0
        if scrubbed:
            kept = kept.with_columns(pl.Series(c, v, dtype=pl.String) for c, v in zip(strings, after, strict=True))
    return kept, sum(theirs), scrubbed, removed_ids, removed_texts


def erase_in_table(lake: Lake, zone: str, relpath: str, patterns: Patterns, counts: ZoneCounts,
                   keep_texts: bool = False) -> None:
    """One Parquet file: the person's rows removed, names scrubbed, rewritten only when something changed."""
    table = lake.read_parquet(zone, relpath)
    frame = pl.from_arrow(table)
    if not isinstance(frame, pl.DataFrame):
        return
    kept, removed, scrubbed, ids, texts = erase_rows(frame, patterns, keep_texts)
    if not removed and not scrubbed:
        return
    lake.write_parquet(zone, relpath, kept.to_arrow().replace_schema_metadata(table.schema.metadata))
    lake.part_rewritten(zone, relpath)
    where = f"{zone}/{relpath}"
    counts.rows_removed[where] += removed
    counts.names_scrubbed[where] += scrubbed
    counts.removed_ids.update(ids)
    counts.removed_texts.extend(texts)


def erase_in_zone(lake: Lake, zone: str, patterns: Patterns, counts: ZoneCounts, skip: tuple[str, ...] = (),
                  keep_texts: bool = False) -> None:
    for relpath in lake.list_parquet(zone):
        if not relpath.startswith(skip):
            erase_in_table(lake, zone, relpath, patterns, counts, keep_texts)


def erase_file_copies(lake: Lake, zone: str, prefix: str, patterns: Patterns, encoded: list[bytes],
                      counts: ZoneCounts) -> None:
    """Whole-file copies (quarantined unreadable files): a copy that holds a value is deleted."""
    for relpath in lake.list_files(zone, prefix):
        if relpath.endswith(".parquet"):
            continue
        data = lake.read_bytes(zone, relpath)
        if any(form in data for form in encoded) or patterns.mentions(_text(data)):
            lake.delete(zone, relpath)
            counts.files_removed.append(f"{zone}/{relpath}")


def drop_memo_entries(lake: Lake, zone: str, prefix: str, texts: list[str], counts: ZoneCounts) -> None:
    """The analysis memo keeps findings per text digest (no text): the digests of removed texts are dropped."""
    from waterworks.governance.pii.memo import text_digest

    digests = {text_digest(t) for t in texts}
    if not digests:
        return
    for relpath in lake.list_parquet(zone, prefix):
        table = lake.read_parquet(zone, relpath)
        frame = pl.from_arrow(table)
        kept = frame.filter(~pl.col("digest").is_in(pl.Series(list(digests), dtype=pl.Binary).implode()))
        if kept.height != frame.height:
            lake.write_parquet(zone, relpath, kept.to_arrow().replace_schema_metadata(table.schema.metadata))
            counts.rows_removed[f"{zone}/{relpath}"] += frame.height - kept.height
