"""Map raw tables onto the two canonical tables, as purification.yaml declares.

``records``: one row per structured raw row: entity kind, typed common fields, every other raw column in an
``attributes`` JSON object, and provenance. ``documents``: one row per free-text raw row: title, body (still
raw here: normalization comes next), markup, language hint, attributes, provenance. A raw file is mapped on
its own, so files of one source may have different columns (an export whose header changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

import polars as pl

from ..lake import Lake
from .config import STRING_FIELDS, DocumentMapping, RecordMapping

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String, "entity_kind": pl.String, "source_id": pl.String,
    **{name: pl.String for name in STRING_FIELDS},
    "amount": pl.Float64, "event_time": pl.Datetime("us"), "attributes": pl.String,
    "classification": pl.String, "landing_path": pl.String, "file_sha256": pl.String, "record_index": pl.Int64,
    "content_hash": pl.String,
}
DOCUMENT_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.String, "doc_kind": pl.String, "source_id": pl.String, "external_id": pl.String,
    "title": pl.String, "body": pl.String, "markup": pl.String, "language_hint": pl.String, "attributes": pl.String,
    "classification": pl.String, "landing_path": pl.String, "file_sha256": pl.String, "record_index": pl.Int64,
    "content_hash": pl.String,
}
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%Y/%m/%d")


@dataclass(frozen=True)
class RawFile:
    """A raw file, or one piece of it: its rows ``start`` to ``stop`` (exclusive; ``stop`` None: the whole file)."""

    source_id: str
    landing_path: str   # the landing file's path, relative to the landing folder
    lake_relpath: str   # raw/<this>
    start: int = 0
    stop: int | None = None
    rows: int = dataclass_field(default=0, compare=False)  # the piece's rows, when known (raw_pieces): sizes shards only

    @property
    def whole(self) -> bool:
        return self.stop is None


def raw_files(lake: Lake, source_id: str) -> list[RawFile]:
    prefix = f"{source_id}/"
    return [RawFile(source_id, rel[len(prefix):-len(".parquet")], rel) for rel in lake.list_parquet("raw", prefix)]


def raw_pieces(lake: Lake, files: list[RawFile], piece_rows: int) -> list[RawFile]:
    """Each file, or, when it has more than ``piece_rows`` rows, its consecutive row ranges of ``piece_rows`` (the
    last shorter), in order: the pieces shards are made of, so that a worker's memory is bounded by a piece, not
    by the largest landing file. Raw rows are in record order, so a file's pieces in order are its rows in order."""
    pieces = []
    for raw in files:
        rows = (lake.footer("raw", raw.lake_relpath) or ({}, 0))[1]
        if rows <= piece_rows:
            pieces.append(RawFile(raw.source_id, raw.landing_path, raw.lake_relpath, rows=rows))
            continue
        pieces += [RawFile(raw.source_id, raw.landing_path, raw.lake_relpath, start, min(start + piece_rows, rows),
                           min(start + piece_rows, rows) - start) for start in range(0, rows, piece_rows)]
    return pieces


def read_raw(lake: Lake, raw: RawFile) -> pl.DataFrame:
    if raw.whole:
        return pl.from_arrow(lake.read_parquet("raw", raw.lake_relpath))
    return pl.from_arrow(lake.read_rows("raw", raw.lake_relpath, raw.start, raw.stop))


def _as_string(frame: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String) if frame.schema[column] != pl.String else pl.col(column)


def _provenance(frame: pl.DataFrame, raw: RawFile) -> list[pl.Expr]:
    return [
        pl.lit(raw.source_id).alias("source_id"),
        pl.col("_classification").alias("classification"),
        pl.lit(raw.landing_path).alias("landing_path"),
        pl.col("_file_sha256").alias("file_sha256"),
        pl.col("_record_index").cast(pl.Int64).alias("record_index"),
        pl.col("_content_hash").alias("content_hash"),
    ]


def _row_id(raw: RawFile) -> pl.Expr:
    """``<source>:<file sha256 prefix>:<record index>``: stable, unique, traceable to the landing file."""
    return pl.concat_str([pl.lit(f"{raw.source_id}:"), pl.col("_file_sha256").str.slice(0, 12), pl.lit(":"),
                          pl.col("_record_index").cast(pl.String)])


def _attributes(frame: pl.DataFrame, used: set[str]) -> pl.Expr:
    rest = [c for c in frame.columns if not c.startswith("_") and c not in used]
    if not rest:
        return pl.lit("{}").alias("attributes")
    return pl.struct([pl.col(c) for c in rest]).struct.json_encode().alias("attributes")


def parse_timestamp(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.coalesce([text.str.to_datetime(f, strict=False, time_unit="us") for f in _DATE_FORMATS])


def map_records(frame: pl.DataFrame, raw: RawFile, mapping: RecordMapping) -> pl.DataFrame:
    chosen: dict[str, str] = {}
    for field, candidates in mapping.fields.items():
        present = [c for c in candidates if c in frame.columns]
        if present:
            chosen[field] = present[0]
    exprs = [_row_id(raw).alias("record_id"), pl.lit(mapping.entity).alias("entity_kind")]
    for name in STRING_FIELDS:
        exprs.append((_as_string(frame, chosen[name]) if name in chosen else pl.lit(None, pl.String)).alias(name))
    exprs.append((_as_string(frame, chosen["amount"]).str.replace_all(r"[,\s]", "").cast(pl.Float64, strict=False)
                  if "amount" in chosen else pl.lit(None, pl.Float64)).alias("amount"))
    exprs.append((parse_timestamp(pl.col(chosen["event_time"])) if "event_time" in chosen
                  else pl.lit(None, pl.Datetime("us"))).alias("event_time"))
    exprs.append(_attributes(frame, set(chosen.values())))
    exprs += _provenance(frame, raw)
    return frame.select(exprs).cast(RECORD_SCHEMA).select(list(RECORD_SCHEMA))


def map_documents(frame: pl.DataFrame, raw: RawFile, mapping: DocumentMapping) -> pl.DataFrame:
    def column(name: str | None) -> pl.Expr:
        return _as_string(frame, name) if name and name in frame.columns else pl.lit(None, pl.String)

    bodies = [column(c) for c in mapping.body]
    non_empty = [pl.when(b.str.strip_chars() != "").then(b) for b in bodies]
    body = pl.coalesce(non_empty) if non_empty else pl.lit(None, pl.String)
    markup = column(mapping.markup_column) if mapping.markup_column else pl.lit(mapping.markup)
    if mapping.html_body_column and mapping.html_body_column in frame.columns:
        text_bodies = [pl.when(b.str.strip_chars() != "").then(b) for c, b in zip(mapping.body, bodies, strict=True)
                       if c != mapping.html_body_column]
        from_text = pl.coalesce(text_bodies).is_not_null() if text_bodies else pl.lit(False)
        markup = pl.when(from_text).then(markup).otherwise(pl.lit("html"))
    exprs = [
        _row_id(raw).alias("doc_id"), pl.lit(mapping.kind).alias("doc_kind"),
        column(mapping.id).alias("external_id"), column(mapping.title).alias("title"), body.alias("body"),
        markup.fill_null("text").alias("markup"), column(mapping.language_hint).alias("language_hint"),
        _attributes(frame, mapping.mapped_columns | ({mapping.language_hint} - {None})),
        *_provenance(frame, raw),
    ]
    return frame.select(exprs).cast(DOCUMENT_SCHEMA).select(list(DOCUMENT_SCHEMA))


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)
