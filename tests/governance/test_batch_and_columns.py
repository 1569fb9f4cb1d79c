"""The batch analyzer (same findings as Presidio's AnalyzerEngine text by text, with prefilter and cache),
column typing from a sample, JSON columns by leaf path, and column mode of `waterworks redact`. Real Presidio."""

import json

import polars as pl
import pytest

from waterworks.governance.pii.batch import BatchAnalyzer, BatchOptions, has_letter, possible_entities
from waterworks.governance.pii.columns import identifier_type, type_column
from waterworks.governance.pii.engine import EngineConfig, build_analyzer, detect_language
from waterworks.governance.pii.redact import Findings, Redactor, read_table, redact_file

TEXTS = [
    "My name is John Smith, call me at (415) 555-0123 or john.smith@example.com.",
    "I am still waiting on my card?",
    "how do i top up my account",
    "Where is Dr. Emily Carter's office? Card 4111 1111 1111 1111.",
    "客户周建国的身份证号是110101199003074514，手机13912345678。",
    "香港客戶李嘉欣，身份證號碼A123456(3)，電話 +852 9123 4567。",
    "服务器 IP 是 192.168.10.25，网址 https://intranet.example.cn/path 。",
    "The server at 10.1.2.3 logged aa:bb:cc:dd:ee:ff",
    "I'm Wei, my IBAN is GB82 WEST 1234 5698 7654 32.",
    "",
    None,
]


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("cache"))


def test_prefilter():
    supported = frozenset({"PHONE_NUMBER", "EMAIL_ADDRESS", "PERSON", "URL", "ADDRESS", "IP_ADDRESS", "LOCATION"})
    # any letter: a name or an address is possible (no guess from capitalisation); no digit: no phone or IP
    assert possible_entities("i am still waiting on my card?", "en", supported) == {"PERSON", "ADDRESS"}
    assert possible_entities("1234 5678", "en", supported) == {"PHONE_NUMBER", "IP_ADDRESS"}
    assert "EMAIL_ADDRESS" in possible_entities("mail a＠b.cn", "zh", supported)
    assert "PERSON" in possible_entities("我叫王伟", "zh", supported)
    assert "LOCATION" not in possible_entities("I live in Shanghai", "en", supported)  # not personal on its own
    assert possible_entities("— 12 —", "en", supported) == set() and not has_letter("— 12 —")


def test_same_findings_as_presidio_text_by_text(config):
    reference = build_analyzer(config)
    batch = BatchAnalyzer(config)
    expected = []
    for text in TEXTS:
        if not text:
            expected.append(set())
            continue
        found = reference.analyze(text, language=detect_language(text))
        expected.append({(r.entity_type, r.start, r.end) for r in found
                         if r.entity_type not in {"ORGANIZATION", "NRP", "DATE_TIME", "LOCATION"}})
    got = [{(r.entity_type, r.start, r.end) for r in results} for results in batch.analyze(TEXTS * 2)]
    assert got == expected * 2  # repeated texts come from the cache, with the same results
    assert ("PERSON", 11, 21) in got[0] and got[1] == set() and ("IBAN_CODE", 20, 47) in got[8]


def test_worker_processes_give_the_same_findings(config):
    texts = [t for t in TEXTS if t] * 3 + [f"订单{i}，联系电话 1391234{i:04d}" for i in range(40)]
    single = BatchAnalyzer(config).analyze(texts)
    parallel = BatchAnalyzer(config, BatchOptions(n_process=2, min_texts_per_process=10)).analyze(texts)
    assert [[(r.entity_type, r.start, r.end) for r in x] for x in parallel] == \
        [[(r.entity_type, r.start, r.end) for r in x] for x in single]


def test_column_typing_from_a_sample(config):
    analyze = BatchAnalyzer(config).analyze
    assert type_column(["刘娟", "费伟", "欧阳建华", "张三丰", None, ""], analyze).entity_type == "PERSON"
    assert type_column(["13912345678", "+86 138 0013 8000", "0912-345-678"], analyze).entity_type == "PHONE_NUMBER"
    assert type_column(["安全网关", "路由器", "交换机"], analyze).entity_type is None
    assert type_column(["18431", "22000", "9050"], analyze).entity_type is None  # salaries are not phones
    mixed = type_column(["110101199003074514", "A123456789", "A123456(3)", "11010519491231002X"], analyze)
    assert mixed.entity_type in {"CN_RESIDENT_ID", "TW_NATIONAL_ID", "HK_ID"} and mixed.share == 1.0
    assert identifier_type("A123456789", "CN_RESIDENT_ID") == "TW_NATIONAL_ID"
    assert identifier_type("A123456(3)", "NATIONAL_ID") == "HK_ID"


def test_json_columns_are_redacted_by_leaf_path(config):
    redactor = Redactor(config)
    values = [json.dumps({"customer": {"name": name, "email": f"u{i}@example.org", "tier": "plus"},
                          "conversation": json.dumps([{"role": "user", "content": f"我的手机是1391234{i:04d}"}],
                                                     ensure_ascii=False)}, ensure_ascii=False)
              for i, name in enumerate(["Shannon Weber", "John Romero", "Amy Brennan", "Eric Smith", "Caleb Gonzalez"])]
    tally = Findings()
    out = redactor.redact_json(values + [None], "attributes", [str(i) for i in range(6)], tally)
    assert out[5] is None
    first = json.loads(out[0])
    assert first["customer"] == {"name": "<PERSON>", "email": "<EMAIL_ADDRESS>", "tier": "plus"}
    assert json.loads(first["conversation"]) == [{"role": "user", "content": "我的手机是<PHONE_NUMBER>"}]
    assert tally.columns["attributes.customer.name"].startswith("PERSON")
    assert tally.columns["attributes.conversation[].content"] == "text"
    assert not any("Weber" in v or "13912340000" in v for v in out[:5])


def test_redact_without_text_fields_uses_column_mode(tmp_path, config):
    source = tmp_path / "customers.csv"
    pl.DataFrame({"姓名": ["刘娟", "费伟", "胡洋"], "手机": ["13912345678", "13800138000", "+86 137 3406 0276"],
                  "等级": ["金卡", "银卡", "金卡"], "备注": ["老客户", "请联系13912345678", "无"]}).write_csv(source)
    target = tmp_path / "out.csv"
    tally = redact_file(source, target, None, config=config)
    out = read_table(target)
    assert out["姓名"].to_list() == ["<PERSON>"] * 3 and out["手机"].to_list() == ["<PHONE_NUMBER>"] * 3
    assert out["等级"].to_list() == ["金卡", "银卡", "金卡"]
    assert out["备注"].to_list() == ["老客户", "请联系<PHONE_NUMBER>", "无"]
    assert tally.by_type["PERSON"] == 3 and tally.by_type["PHONE_NUMBER"] == 4


def test_mailbox_display_names_are_names(config):
    texts = ["孙刚 <gtaylor@hotmail.com>", 'To: "Lee, Amy" <a@example.com>, Shelby Rodriguez <s@example.com>',
             "write to support <help@example.com>"]
    found = [{(r.entity_type, t[r.start:r.end]) for r in rs} for t, rs in zip(texts, BatchAnalyzer(config).analyze(texts),
                                                                              strict=True)]
    assert ("PERSON", "孙刚") in found[0]
    persons = " ".join(v for t, v in found[1] if t == "PERSON")
    assert all(part in persons for part in ("Lee", "Amy", "Shelby Rodriguez")), found[1]
    # known over-redaction: the learned detector reads "support" before an address as a display name
