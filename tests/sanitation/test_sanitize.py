"""sanitize_table on small purified tables in a temporary lake: the config decides each column's handling,
pseudonyms are consistent across tables, the residual check fails on a leak with counts only, and bad configs
name the file."""

import json

import polars as pl
import pytest

from waterworks.assets.engines import LocalEngine
from waterworks.assets.lake import Lake
from waterworks.assets.sanitation.checks import check_residual, check_rows_kept
from waterworks.assets.sanitation.config import ResidualConfig, SanitationConfigError, load_sanitation_config
from waterworks.assets.sanitation.sanitize import make_redactor, sanitize_table
from waterworks.governance.pii.engine import EngineConfig
from waterworks.governance.pii.operators import is_surrogate

KEY = "a pseudonym key for the tests only"
STRICT = ResidualConfig(max_findings=0, max_name_share=0.0)  # any residual identifier or name fails


@pytest.fixture
def lake(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    records = pl.DataFrame({
        "record_id": ["crm:1:0", "crm:1:1", "tw:2:0"], "source_id": ["crm", "crm", "tw"],
        "landing_path": ["crm/a.csv", "crm/a.csv", "tw/b.csv"], "external_id": ["C0000009", "C0000010", "T1"],
        "name": ["刘娟", "费伟", "陳俊佑"], "national_id": ["11010519491231002X", "110101199003074514", "A123456789"],
        "phone": ["13912345678", "138 0013 8000", "0912-345-678"],
        "attributes": [json.dumps({"备注": "请联系13912345678", "会员等级": "金卡"}, ensure_ascii=False),
                       json.dumps({"备注": "无", "会员等级": "银卡"}, ensure_ascii=False), "{}"]})
    documents = pl.DataFrame({
        "doc_id": ["t:1:0", "t:1:1"], "source_id": ["tickets", "tickets"], "landing_path": ["t.jsonl", "t.jsonl"],
        "title": [None, None], "language": ["zh-Hans", "zh-Hant"],
        "body": ["客户刘娟的手机13912345678坏了。", "我是陳俊佑，電話0912-345-678。"],
        "body_zh_hans": ["客户刘娟的手机13912345678坏了。", "我是陈俊佑，电话0912-345-678。"],
        "attributes": ["{}", "{}"]})
    lake.write_table("purified", "records", records.to_arrow())
    lake.write_table("purified", "documents", documents.to_arrow())
    return lake


def _config(tmp_path, **changes):
    data = {"operator": "placeholder", "records": {"declared": {"name": "PERSON", "national_id": "NATIONAL_ID",
                                                                 "phone": "PHONE_NUMBER"},
                                                    "json": ["attributes"],
                                                    "keep": ["record_id", "source_id", "landing_path", "external_id"]},
            "documents": {"text": ["title", "body"], "json": ["attributes"],
                          "keep": ["doc_id", "source_id", "landing_path", "language"],
                          "simplified_body": "body_zh_hans", "simplified_conversion": "t2s"}} | changes
    path = tmp_path / "sanitation.yaml"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return load_sanitation_config(path)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("cache"))


def test_placeholders_by_column_plan_and_ledger(tmp_path, lake, engine):
    config = _config(tmp_path)
    redactor = make_redactor(config, engine)
    report = sanitize_table(lake, "records", config, redactor=redactor)
    out = pl.from_arrow(lake.read_table("sanitized", "records"))
    assert out["name"].to_list() == ["<PERSON>"] * 3
    assert out["national_id"].to_list() == ["<CN_RESIDENT_ID>", "<CN_RESIDENT_ID>", "<TW_NATIONAL_ID>"]
    assert out["external_id"].to_list() == ["C0000009", "C0000010", "T1"]  # keep: passed through
    # 会员等级 "金卡" alone, once in the table, is read as a name by the learned detector (金 is a surname;
    # there is no context and too few rows to see an enumeration): a known over-redaction, not asserted here.
    assert json.loads(out["attributes"][0])["备注"] == "请联系<PHONE_NUMBER>"
    assert report.columns["crm"]["name"] == "declared PERSON" and report.by_type["PHONE_NUMBER"] == 4
    ledger = pl.from_arrow(lake.read_parquet("sanitized", "ledger/records.parquet"))
    assert set(ledger["landing_path"]) == {"crm/a.csv", "tw/b.csv"}
    row = ledger.filter((pl.col("landing_path") == "crm/a.csv") & (pl.col("field") == "name")).row(0, named=True)
    assert (row["entity_type"], row["count"], row["detector"], row["mode"]) == ("PERSON", 2, "declared", "column")
    assert check_rows_kept(lake, "records")[0]
    whole = check_residual(lake, "records", STRICT)
    assert check_residual(lake, "records", STRICT, engine=LocalEngine(shards=2)) == whole  # a shard per file
    sanitize_table(lake, "documents", config, redactor=redactor)
    docs = pl.from_arrow(lake.read_table("sanitized", "documents"))
    assert docs["body"].to_list() == ["客户<PERSON>的手机<PHONE_NUMBER>坏了。", "我是<PERSON>，電話<PHONE_NUMBER>。"]
    assert docs["body_zh_hans"][1] == "我是<PERSON>，电话<PHONE_NUMBER>。"  # re-derived from the redacted body
    passed, meta = check_residual(lake, "documents", STRICT)
    assert passed and meta["residual_findings"] == 0 and meta["values_with_residual_names"] == 0, meta


def test_pseudonyms_are_consistent_across_tables(tmp_path, lake, engine, monkeypatch):
    monkeypatch.setenv("WATERWORKS_PSEUDONYM_KEY", KEY)
    config = _config(tmp_path, operator="pseudonym")
    redactor = make_redactor(config, engine)
    sanitize_table(lake, "records", config, redactor=redactor)
    sanitize_table(lake, "documents", config, redactor=redactor)
    records = pl.from_arrow(lake.read_table("sanitized", "records"))
    docs = pl.from_arrow(lake.read_table("sanitized", "documents"))
    phone, name = records["phone"][0], records["name"][0]
    assert phone != "13912345678" and is_surrogate("PHONE_NUMBER", phone)
    assert phone in docs["body"][0] and phone in json.loads(records["attributes"][0])["备注"]
    assert name != "刘娟" and name in docs["body"][0]
    assert is_surrogate("TW_NATIONAL_ID", records["national_id"][2])
    for table in ("records", "documents"):
        passed, meta = check_residual(lake, table, STRICT, pseudonyms=True)
        assert passed, (table, json.dumps(meta, ensure_ascii=False))  # surrogates are not residual PII


def test_residual_check_fails_on_a_leak_with_counts_only(tmp_path, lake):
    leaked = pl.DataFrame({"doc_id": ["d1", "d2"], "body": ["身份证11010519491231002X", "fine"]})
    lake.write_table("sanitized", "documents", leaked.to_arrow())
    passed, meta = check_residual(lake, "documents", STRICT)
    assert not passed and meta["by_type"] == "CN_RESIDENT_ID=1" and meta["example_rows"].startswith("d1")
    assert "11010519491231002X" not in json.dumps(meta)
    assert check_residual(lake, "documents", ResidualConfig(max_findings=1, max_name_share=0))[0]  # at the threshold


def test_a_name_the_redaction_missed_fails_the_residual_check(tmp_path, lake):
    """Redaction with the learned detector switched off lets names through; the residual check's own name
    detectors (a second NER model, the detector at a lower threshold) catch them and fail, counts only."""
    config = _config(tmp_path)
    blind = make_redactor(config, EngineConfig(cache_dir=tmp_path / "cache", detector="none"))
    names = pl.DataFrame({"doc_id": ["n1", "n2", "n3"], "source_id": ["t"] * 3, "landing_path": ["t.jsonl"] * 3,
                          "title": [None] * 3, "language": ["en", "zh-Hans", "en"],
                          "body": ["Please ask Margaret Okafor to approve the refund.", "请联系王小明确认订单",
                                   "How do I top up my card?"],
                          "body_zh_hans": [None] * 3, "attributes": ["{}"] * 3})
    lake.write_table("purified", "documents", names.to_arrow())
    sanitize_table(lake, "documents", config, redactor=blind)
    passed, meta = check_residual(lake, "documents", STRICT)
    assert not passed and meta["residual_findings"] == 0  # no identifier: the names alone fail it
    assert meta["residual_names_by_type"] == "PERSON=2" and meta["values_with_residual_names"] == 2
    assert meta["example_rows"].startswith("n1") and "n3" not in meta["example_rows"]
    assert "Okafor" not in json.dumps(meta) and "王小明" not in json.dumps(meta)
    assert check_residual(lake, "documents", ResidualConfig(names=False))[0]
    # with the detector on, the same texts are redacted and the check passes
    sanitize_table(lake, "documents", config, redactor=make_redactor(config, EngineConfig(cache_dir=tmp_path / "c2")))
    passed, meta = check_residual(lake, "documents", STRICT)
    assert passed, meta


def test_identifier_columns_become_keyed_pseudonyms_that_still_join(tmp_path, engine):
    from waterworks.governance.pii.operators import PseudonymKey

    lake = Lake(str(tmp_path / "lake"))
    records = pl.DataFrame({
        "record_id": ["hr:1:0", "erp:1:0", "erp:2:0"], "source_id": ["hr", "erp", "erp"],
        "landing_path": ["hr/x.xlsx", "erp/a.sqlite", "erp/a.sqlite"], "classification": ["internal"] * 3,
        "external_id": ["E0042", "C0000009", "O1"], "customer_ref": [None, None, "C0000009"],
        "attributes": ["{}"] * 3})
    lake.write_table("purified", "records", records.to_arrow())
    config = _config(tmp_path, records={"json": ["attributes"], "identifiers": ["external_id", "customer_ref"],
                                        "keep": ["record_id", "source_id", "landing_path", "classification"]})
    from waterworks.assets.sanitation.sanitize import Boundary

    boundary = Boundary(key=PseudonymKey(KEY.encode()))
    report = sanitize_table(lake, "records", config, redactor=make_redactor(config, engine), boundary=boundary)
    out = pl.from_arrow(lake.read_table("sanitized", "records"))
    ids = out["external_id"].to_list()
    assert all(i.startswith("pid-") for i in ids) and "E0042" not in ids
    assert out["customer_ref"][2] == ids[1]  # the order still joins its customer
    assert report.columns["hr"]["external_id"] == "identifier (keyed pseudonym)"
    other = Boundary(key=PseudonymKey(b"another key of sixteen+ chars"))
    sanitize_table(lake, "records", config, redactor=make_redactor(config, engine), boundary=other)
    assert pl.from_arrow(lake.read_table("sanitized", "records"))["external_id"][0] != ids[0]


def test_restricted_rows_carry_generalized_attributes_and_no_free_text(tmp_path, engine):
    from waterworks.assets.sanitation.sanitize import Boundary
    from waterworks.governance.pii.operators import PseudonymKey
    from waterworks.governance.policy import load_policy

    lake = Lake(str(tmp_path / "lake"))
    n = 6
    records = pl.DataFrame({
        "record_id": [f"hr:{i}" for i in range(n)] + ["crm:0"], "source_id": ["hr"] * n + ["crm"],
        "landing_path": ["hr/x.xlsx"] * n + ["crm/a.csv"], "classification": ["restricted"] * n + ["confidential"],
        "external_id": [f"E{i}" for i in range(n)] + ["C1"],
        "amount": [23456.0] * n + [23456.0],
        "attributes": [json.dumps({"部门": "销售部", "月薪": 23456 + i, "入职日期": "2021-03-17",
                                   "备注": f"绩效第{i}名"}, ensure_ascii=False) for i in range(n)]
        + [json.dumps({"月薪": 23456}, ensure_ascii=False)]})
    lake.write_table("purified", "records", records.to_arrow())
    config = _config(tmp_path, records={"json": ["attributes"], "identifiers": ["external_id"],
                                        "keep": ["record_id", "source_id", "landing_path", "classification",
                                                 "amount"], "attributes": ["attributes", "amount"]})
    boundary = Boundary(key=PseudonymKey(KEY.encode()), policy=load_policy())
    report = sanitize_table(lake, "records", config, redactor=make_redactor(config, engine), boundary=boundary)
    out = pl.from_arrow(lake.read_table("sanitized", "records"))
    hr = [json.loads(a) for a in out["attributes"][:n]]
    assert {a["月薪"] for a in hr} == {20000} and {a["部门"] for a in hr} == {"销售部"}  # shared by ≥ 5: kept
    assert {a["入职日期"] for a in hr} == {"2021-03"} and all(a["备注"] is None for a in hr)  # unique: gone
    assert out["amount"][:n].to_list() == [20000.0] * n and out["amount"][n] == 23456.0  # confidential: kept
    assert json.loads(out["attributes"][n])["月薪"] == 23456
    assert report.columns["hr"]["attributes"] == "generalized (policy)"
    docs = pl.DataFrame({"doc_id": ["d1", "d2"], "source_id": ["hr_notes", "tickets"],
                         "landing_path": ["hr/n.md", "t.jsonl"], "classification": ["restricted", "internal"],
                         "title": ["评估", "问题"], "body": ["绩效面谈记录", "怎么开户"], "attributes": ["{}", "{}"],
                         "language": ["zh-Hans"] * 2, "body_zh_hans": ["绩效面谈记录", "怎么开户"]})
    lake.write_table("purified", "documents", docs.to_arrow())
    sanitize_table(lake, "documents", config, redactor=make_redactor(config, engine), boundary=boundary)
    out = pl.from_arrow(lake.read_table("sanitized", "documents"))
    assert out["body"].to_list() == [None, "怎么开户"] and out["title"][0] is None and out["body_zh_hans"][0] is None


def test_the_residual_check_rescans_kept_columns_too(tmp_path, lake):
    leaked = pl.DataFrame({"doc_id": ["d1"], "source_id": ["t"], "landing_path": ["t.jsonl"],
                           "external_id": ["11010519491231002X"], "body": ["fine"]})
    lake.write_table("sanitized", "documents", leaked.to_arrow())
    passed, meta = check_residual(lake, "documents", STRICT)
    assert not passed and meta["by_type"] == "CN_RESIDENT_ID=1"


def test_bad_config_names_the_file_and_the_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("operator: shred\n", encoding="utf-8")
    with pytest.raises(SanitationConfigError, match=r"bad.yaml: invalid sanitation config: operator"):
        load_sanitation_config(path)
    path.write_text("records: {text: [body], keep: [body]}\n", encoding="utf-8")
    with pytest.raises(SanitationConfigError, match="listed under both text and keep"):
        load_sanitation_config(path)
    with pytest.raises(SanitationConfigError, match="missing.yaml: cannot read"):
        load_sanitation_config(tmp_path / "missing.yaml")


def test_remembered_findings_give_the_same_output_and_analyze_only_new_texts(tmp_path, lake, engine, monkeypatch):
    """Issue 8, incremental: a second run over the same table analyzes nothing (findings come from the memo in
    the private zone) and writes identical tables and ledger; a new document is the only text analyzed; a
    changed analyzer (another fingerprint) ignores the memo."""
    import waterworks.governance.pii.memo as memo_module
    config = _config(tmp_path)
    first = sanitize_table(lake, "documents", config, engine)
    assert first.texts_analyzed > 0 and first.texts_remembered == 0
    outputs = [pl.from_arrow(lake.read_table("sanitized", "documents")),
               lake.read_bytes("sanitized", "ledger/documents.parquet")]
    again = sanitize_table(lake, "documents", config, engine)
    assert again.texts_analyzed == 0 and again.texts_remembered >= 2
    assert outputs[0].equals(pl.from_arrow(lake.read_table("sanitized", "documents")))
    assert pl.read_parquet(outputs[1]).equals(pl.from_arrow(lake.read_parquet("sanitized", "ledger/documents.parquet")))
    # the memo holds digests and offsets, never a text, and lives in the private zone
    memo = pl.concat([pl.from_arrow(lake.read_parquet("purified", p))
                      for p in lake.list_parquet("purified", "analysis_memo/documents/")]).to_arrow()
    assert memo.column_names == ["digest", "language", "findings"]
    assert "13912345678" not in memo.to_pandas().to_string()

    purified = pl.from_arrow(lake.read_table("purified", "documents"))
    new = purified.head(1).with_columns(pl.lit("t:2:0").alias("doc_id"), pl.lit("新客户费伟，手机13800138000。").alias("body"))
    lake.write_table("purified", "documents", pl.concat([purified, new]).to_arrow())
    grown = sanitize_table(lake, "documents", config, engine)
    assert grown.texts_analyzed == 1  # the new body only
    assert pl.from_arrow(lake.read_table("sanitized", "documents"))["body"][2] == "新客户<PERSON>，手机<PHONE_NUMBER>。"

    monkeypatch.setattr(memo_module, "fingerprint", lambda config: "another analyzer")
    changed = sanitize_table(lake, "documents", config, engine)
    assert changed.texts_remembered == 0 and changed.texts_analyzed == grown.texts_analyzed + grown.texts_remembered
