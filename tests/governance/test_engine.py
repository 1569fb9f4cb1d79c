"""The Presidio analyzer with our recognizers, on real Presidio and spaCy (offline): English and Chinese
texts, full-width input, and the demo estate's planted values in its ticket texts."""

import json

import pytest

from waterworks.governance.pii.engine import EngineConfig, build_analyzer, detect_language

PATTERN_TYPES = {"CN_RESIDENT_ID", "TW_NATIONAL_ID", "HK_ID", "PHONE_NUMBER", "EMAIL_ADDRESS", "BANK_CARD"}


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    return build_analyzer(EngineConfig(cache_dir=tmp_path_factory.mktemp("cache")))


def detected(analyzer, text):
    return {(r.entity_type, text[r.start:r.end]) for r in analyzer.analyze(text, language=detect_language(text))}


def test_language_routing():
    assert detect_language("Where is my card?") == "en"
    assert detect_language("我的卡在哪里？card") == "zh"
    assert detect_language("這是繁體中文") == "zh"
    assert detect_language("12345") == "en"


def test_english_text(analyzer):
    text = "My name is John Smith, call me at (415) 555-0123 or john.smith@example.com. Card 4111 1111 1111 1111."
    found = detected(analyzer, text)
    assert {("PERSON", "John Smith"), ("PHONE_NUMBER", "(415) 555-0123"),
            ("EMAIL_ADDRESS", "john.smith@example.com"), ("BANK_CARD", "4111 1111 1111 1111")} <= found
    assert not any(t == "CREDIT_CARD" for t, _ in found)  # one card, one type


def test_dates_and_timestamps_are_not_phone_numbers(analyzer):
    for text in ("2024-01-01T09:04:00", "created 2024/1/31 at noon", "due 31.12.2024", "2023-11-05"):
        assert not any(t == "PHONE_NUMBER" for t, _ in detected(analyzer, text)), text
    assert ("PHONE_NUMBER", "(415) 555-0123") in detected(analyzer, "on 2024-01-01 call (415) 555-0123")


def test_simplified_and_traditional_chinese(analyzer):
    text = "我叫王伟，手机号+86 138 0013 8000，身份证11010519491231002X，请发邮件到wangwei@example.com。"
    assert {("PHONE_NUMBER", "+86 138 0013 8000"), ("CN_RESIDENT_ID", "11010519491231002X"),
            ("EMAIL_ADDRESS", "wangwei@example.com")} <= detected(analyzer, text)
    text = "我是陳俊佑，身分證字號A123456789，電話0912-345-678，香港身份證A123456(3)。"
    assert {("TW_NATIONAL_ID", "A123456789"), ("PHONE_NUMBER", "0912-345-678"),
            ("HK_ID", "A123456(3)")} <= detected(analyzer, text)


def test_fullwidth_digits_in_chinese(analyzer):
    text = "手机１３８００１３８０００，身份证号１１０１０５１９４９１２３１００２Ｘ。"
    assert {("PHONE_NUMBER", "１３８００１３８０００"), ("CN_RESIDENT_ID", "１１０１０５１９４９１２３１００２Ｘ")} \
        <= detected(analyzer, text)


def test_planted_pattern_values_in_the_estate_tickets_are_all_found(analyzer, estate_dir):
    """Every planted ID, phone, e-mail and card in the ticket bodies is covered by a detection of its type."""
    lines = (estate_dir / "tickets" / "tickets_2024.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in (estate_dir / "manifest.jsonl").read_text().splitlines()]
    planted = [e for e in entries if e["file"] == "tickets/tickets_2024.jsonl" and e["location"].get("field") == "body"
               and e["type"] in PATTERN_TYPES]
    assert len(planted) > 50
    cache, missed = {}, []
    for entry in planted:
        row = entry["location"]["row"]
        if row not in cache:
            body = json.loads(lines[row])["body"]
            cache[row] = (body, analyzer.analyze(body, language=detect_language(body)))
        body, results = cache[row]
        start, end = entry["location"]["start"], entry["location"]["end"]
        assert body[start:end] == entry["value"]
        if not any(r.entity_type == entry["type"] and r.start <= start and r.end >= end for r in results):
            missed.append(entry["type"])
    assert missed == []


def test_presidio_loads_without_transformers_and_transformers_still_imports_afterwards():
    import subprocess
    import sys

    code = ("import sys; import governance.pii.presidio; assert 'transformers' not in sys.modules; "
            "import transformers; from transformers import PretrainedConfig; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
