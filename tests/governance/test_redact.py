"""`waterworks redact` / `scan` behind the CLI: same format out, same rows and ids, only the named text fields
changed, planted values gone, PII-free text untouched, summaries without values, clear errors. Real Presidio."""

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from waterworks.governance.pii.engine import EngineConfig
from waterworks.governance.pii.redact import Redactor, TableFormatError, read_table, redact_file, scan_file

WATERWORKS = Path(sys.executable).parent / "waterworks"
ROWS = [
    {"id": "a1", "text": "Please call Jennifer Morales at (415) 555-0199 or mail jen.morales@example.org about card "
                         "4111 1111 1111 1111.", "channel": "email"},
    {"id": "a2", "text": "客户周建国的身份证号是110101199003074514，手机13912345678，请尽快回电。", "channel": "phone"},
    {"id": "a3", "text": "The quarterly report is attached; revenue grew 12% over last year.", "channel": "web"},
    {"id": "a4", "text": "香港客戶李嘉欣，身份證號碼A123456(3)，電話 +852 9123 4567。", "channel": "chat"},
    {"id": "a5", "text": "我叫王伟，手机１３８００１３８０００，邮箱wangwei@example.com。", "channel": "chat"},
    {"id": "a6", "text": "Can I use my card in the UK and in Europe?", "channel": "web"},
]
PLANTED = ["Jennifer Morales", "555-0199", "jen.morales@example.org", "4111 1111 1111 1111", "周建国",
           "110101199003074514", "13912345678", "李嘉欣", "A123456(3)", "9123 4567", "王伟", "１３８００１３８０００",
           "wangwei@example.com"]


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("cache"))


def _write(path: Path, fmt: str) -> Path:
    frame = pl.DataFrame(ROWS)
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    elif fmt == "csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_redact_keeps_rows_and_other_fields_and_removes_planted_values(tmp_path, config, fmt):
    source = _write(tmp_path / f"in.{fmt}", fmt)
    target = tmp_path / f"out.{fmt}"
    tally = redact_file(source, target, ["text"], config=config)
    before, after = read_table(source), read_table(target)
    assert after["id"].to_list() == before["id"].to_list()
    assert after["channel"].to_list() == before["channel"].to_list()
    assert after["text"][2] == before["text"][2]  # no PII: untouched
    assert after["text"][5] == before["text"][5]  # countries alone are not personal data
    dump = "\n".join(after["text"].to_list())
    assert [v for v in PLANTED if v in dump] == []
    assert "<PERSON>" in dump and "<CN_RESIDENT_ID>" in dump and "<HK_ID>" in dump
    assert tally.texts == 6 and tally.texts_with_pii == 4
    assert {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "BANK_CARD", "CN_RESIDENT_ID", "HK_ID"} <= set(tally.by_type)
    assert scan_file(target, config=config).by_type == {}
    assert scan_file(source, config=config).texts_with_pii == 4


def test_without_text_fields_every_text_column_is_redacted(tmp_path, config):
    frame = pl.DataFrame({"name": ["我叫王伟"], "note": ["call 13912345678"], "n": [1]})
    redacted, _ = Redactor(config).redact_frame(frame, None)
    assert redacted["n"].to_list() == [1]
    assert "王伟" not in redacted["name"][0] and "13912345678" not in redacted["note"][0]


def test_clear_errors(tmp_path, config):
    bad = tmp_path / "in.txt"
    bad.write_text("x")
    with pytest.raises(TableFormatError, match="in.txt: unsupported file type"):
        redact_file(bad, tmp_path / "out.txt", config=config)
    source = _write(tmp_path / "in.jsonl", "jsonl")
    with pytest.raises(TableFormatError, match="no such field"):
        redact_file(source, tmp_path / "out.jsonl", ["body"], config=config)
    with pytest.raises(TableFormatError, match="same format|input's format"):
        redact_file(source, tmp_path / "out.csv", ["text"], config=config)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(TableFormatError, match="broken.parquet: not a readable parquet file"):
        scan_file(broken, config=config)


def test_cli_contract_and_no_values_in_output(tmp_path):
    source = _write(tmp_path / "in.jsonl", "jsonl")
    env = {"PATH": "/usr/bin:/bin", "WATERWORKS_HOME": str(tmp_path / "home"), "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
           "HF_HUB_OFFLINE": "1"}
    redact = subprocess.run([str(WATERWORKS), "redact", "--in", str(source), "--out", str(tmp_path / "out.jsonl"),
                             "--text-field", "text"], capture_output=True, text=True, env=env, timeout=300)
    assert redact.returncode == 0, redact.stderr
    raw = subprocess.run([str(WATERWORKS), "scan", "--in", str(source)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert raw.returncode == 1
    summary = json.loads(raw.stdout)
    assert summary["texts_with_pii"] == 4 and summary["by_type"]["PERSON"] >= 3
    clean = subprocess.run([str(WATERWORKS), "scan", "--in", str(tmp_path / "out.jsonl")], capture_output=True,
                           text=True, env=env, timeout=300)
    assert clean.returncode == 0, clean.stdout
    for output in (redact.stdout, redact.stderr, raw.stdout, raw.stderr, clean.stdout, clean.stderr):
        assert [v for v in PLANTED if v in output] == []


def test_cli_reports_a_missing_file_with_status_2(tmp_path, capsys):
    from waterworks.pipelines.cli import main

    assert main(["scan", "--in", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_json_keys_are_analyzed_like_values_and_never_become_ledger_columns(config):
    values = [json.dumps({"jen.morales@example.org": {"plan": "gold"}, "note": "ok"}),
              json.dumps({"13912345678": "mobile", "note": "called back"}),
              json.dumps({"note": "the quarterly report is attached"})]
    tally = _findings()
    tally_values = Redactor(config).redact_column(values, "attributes", ["r1", "r2", "r3"], tally)
    out = " ".join(tally_values)
    assert "jen.morales@example.org" not in out and "13912345678" not in out
    assert json.loads(tally_values[0])["note"] == "ok" and json.loads(tally_values[0])[next(iter(
        json.loads(tally_values[0])))] == {"plan": "gold"}  # the value under a redacted key is kept
    assert tally_values[2] == values[2]
    assert not any("example.org" in column or "1391234" in column for column in tally.columns)


def test_json_nested_past_the_depth_cap_is_analyzed_as_text_without_recursion(config):
    deep = '{"a":' * 900 + '"call 13912345678"' + "}" * 900
    values = [deep, json.dumps({"text": "fine"})]
    redacted = Redactor(config).redact_column(values, "payload", ["r1", "r2"], _findings())
    assert "13912345678" not in redacted[0] and redacted[1] == values[1]


def _findings():
    from waterworks.governance.pii.redact import Findings

    return Findings()
