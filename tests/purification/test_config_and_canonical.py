"""The purification config (every source mapped, clear errors) and the canonical mapping of raw tables."""

import datetime as dt
import json

import polars as pl
import pytest

from waterworks.assets.purification.canonical import (
    DOCUMENT_SCHEMA,
    RECORD_SCHEMA,
    RawFile,
    map_documents,
    map_records,
)
from waterworks.assets.purification.config import (
    DocumentMapping,
    PurificationConfigError,
    RecordMapping,
    load_purification_config,
)
from waterworks.assets.source.catalog import load_catalog
from waterworks.pipelines.settings import project_root


def test_every_declared_source_is_mapped_once():
    config = load_purification_config()
    catalog = load_catalog(project_root() / "assets" / "source" / "sources.yaml")
    assert config.unmapped([s.id for s in catalog.sources]) == []
    assert not set(config.records) & set(config.documents)


@pytest.mark.parametrize(("text", "problem"), [
    ("records:\n  x:\n    entity: customer\n    fields: {nickname: [n]}\n", "unknown canonical field"),
    ("records:\n  x: {entity: c}\ndocuments:\n  x: {kind: d, body: [b]}\n", "both records and documents"),
    ("dedup: {bands: 0}\n", "dedup.bands"),
    ("documents:\n  x: {kind: d}\n", "documents.x.body"),
    ("records: [", "cannot read"),
])
def test_bad_config_names_the_file_and_the_problem(tmp_path, text, problem):
    path = tmp_path / "purification.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PurificationConfigError) as error:
        load_purification_config(path)
    assert str(path) in str(error.value) and problem in str(error.value)


def _raw_frame(columns: dict) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame({**columns, "_source_id": ["s"] * n, "_file_uri": ["file:///x"] * n,
                         "_file_sha256": ["ab" * 32] * n, "_record_index": list(range(n)),
                         "_content_hash": ["h"] * n, "_ingested_at": [dt.datetime(2024, 1, 1)] * n,
                         "_classification": ["confidential"] * n, "_encoding": ["utf-8"] * n})


def test_records_get_typed_common_fields_and_attributes():
    raw = _raw_frame({"编号": ["A1", "A2"], "姓名": ["张三", "李四"], "金额": ["1,299.50", "oops"],
                      "日期": ["2024-03-01", "2024-03-02T10:30:00"], "备注": ["VIP", None]})
    mapping = RecordMapping(entity="customer", fields={"external_id": ["编号"], "name": ["姓名", "name"],
                                                       "amount": ["金额"], "event_time": ["日期"]})
    out = map_records(raw, RawFile("s", "crm/a.csv", "s/crm/a.csv.parquet"), mapping)
    assert out.schema == pl.Schema(RECORD_SCHEMA)
    first, second = out.to_dicts()
    assert first["record_id"] == "s:" + "ab" * 6 + ":0"
    assert (first["entity_kind"], first["external_id"], first["name"]) == ("customer", "A1", "张三")
    assert first["amount"] == 1299.5 and second["amount"] is None  # unparseable → null, never a crash
    assert first["event_time"] == dt.datetime(2024, 3, 1) and second["event_time"] == dt.datetime(2024, 3, 2, 10, 30)
    assert json.loads(first["attributes"]) == {"备注": "VIP"}
    assert first["landing_path"] == "crm/a.csv" and first["classification"] == "confidential"


def test_documents_take_the_first_non_empty_body_and_mark_html_fallbacks():
    raw = _raw_frame({"message_id": ["<1>", "<2>"], "subject": ["Hi", "Re"], "body_text": ["plain", ""],
                      "body_html": [None, "<p>html only</p>"], "from": ["a@b.c", "d@e.f"]})
    mapping = DocumentMapping(kind="email", id="message_id", title="subject", body=["body_text", "body_html"],
                              html_body_column="body_html", email=True)
    out = map_documents(raw, RawFile("s", "mail/x.mbox", "s/mail/x.mbox.parquet"), mapping)
    assert out.schema == pl.Schema(DOCUMENT_SCHEMA)
    assert out["body"].to_list() == ["plain", "<p>html only</p>"]
    assert out["markup"].to_list() == ["text", "html"]
    assert [json.loads(a) for a in out["attributes"]] == [{"from": "a@b.c"}, {"from": "d@e.f"}]
