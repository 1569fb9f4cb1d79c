"""The learned name and address detector, shipped in governance/pii/detector, through Presidio as the plant
runs it: real sentences of each language and form (sentence-initial, all caps, lower case, non-ASCII,
Traditional script, full width), and what it must leave alone."""

import json

import pytest

from waterworks.governance.pii.batch import BatchAnalyzer
from waterworks.governance.pii.engine import EngineConfig, build_analyzer, detect_language
from waterworks.governance.pii.learned import DEFAULT_DETECTOR, detector_path, load_detector


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    return build_analyzer(EngineConfig(cache_dir=tmp_path_factory.mktemp("cache")))


def persons(analyzer, text):
    return [text[r.start:r.end] for r in analyzer.analyze(text, language=detect_language(text))
            if r.entity_type == "PERSON"]


def redacted_all(analyzer, text, *names):
    """Every character of each name lies inside a PERSON finding."""
    spans = [(r.start, r.end) for r in analyzer.analyze(text, language=detect_language(text))
             if r.entity_type == "PERSON"]
    for name in names:
        start = text.index(name)
        assert all(text[i].isspace() or any(s <= i < e for s, e in spans) for i in range(start, start + len(name))), \
            (text, name, [text[s:e] for s, e in spans])


@pytest.mark.parametrize("text,names", [
    ("Margaret Okafor approved the loan on Tuesday.", ["Margaret Okafor"]),                # sentence-initial
    ("I forwarded the complaint to Henrik Johansson in the Oslo office.", ["Henrik Johansson"]),
    ("PLEASE ASK DANIEL HARTMANN TO CALL ME BACK", ["DANIEL HARTMANN"]),                       # all caps
    ("José Ramírez and Zoë Lefèvre signed the lease.", ["José Ramírez", "Zoë Lefèvre"]),       # non-ASCII
    ("From: Priya Raghunathan <p.r@example.com>", ["Priya Raghunathan"]),                     # mail header
    ("Best regards,\nThomas Becker\nAccount Manager", ["Thomas Becker"]),                       # signature
    ("请联系王小明确认订单", ["王小明"]),
    ("我是刘洋，昨天买的手机坏了", ["刘洋"]),
    ("請聯絡業務部陳志豪處理退款", ["陳志豪"]),                                                # Traditional
    ("收件人：黃淑芬，地址另告", ["黃淑芬"]),
    ("客户：张伟，电话１３８００１３８０００", ["张伟"]),                                        # full width
])
def test_names_found_in_real_sentences(analyzer, text, names):
    redacted_all(analyzer, text, *names)


@pytest.mark.parametrize("text", [
    "公司副总经理今天来访",
    "How do I top up my card with Apple Pay?",
    "The European Commission met in Brussels on Monday.",
    "我想找一家北京的酒店，评分4.5分以上",
])
def test_no_person_where_there_is_none(analyzer, text):
    assert persons(analyzer, text) == []


def test_street_addresses_found(analyzer):
    text = "Please ship it to 742 Evergreen Terrace, Springfield, IL 62704 by Friday."
    found = [text[r.start:r.end] for r in analyzer.analyze(text, language="en") if r.entity_type == "ADDRESS"]
    assert any("742 Evergreen Terrace" in f for f in found), found


def test_batch_analyzer_primes_the_detector_and_agrees(analyzer, tmp_path):
    texts = ["Margaret Okafor approved the loan.", "请联系王小明确认订单", "nothing personal here", "12345"]
    batch = BatchAnalyzer(EngineConfig(cache_dir=tmp_path))
    got = [{(r.entity_type, r.start, r.end) for r in results} for results in batch.analyze(texts)]
    expected = [{(r.entity_type, r.start, r.end) for r in analyzer.analyze(t, language=detect_language(t))
                 if r.entity_type in ("PERSON", "ADDRESS")} for t in texts]
    assert [g & {x for x in g if x[0] in ("PERSON", "ADDRESS")} for g in got] == expected
    assert got[3] == set()  # no letter: the detector is not asked


def test_detector_can_be_switched_off_and_is_shipped_with_its_card(tmp_path):
    off = build_analyzer(EngineConfig(cache_dir=tmp_path, detector="none"))
    assert not [r for r in off.analyze("Margaret Okafor approved the loan.", language="en")
                if r.entity_type == "PERSON"]
    card = json.loads((DEFAULT_DETECTOR / "card.json").read_text())
    assert card["data"] and card["dev"]["conll_valid"]["recall"] > 0.8 and 0 < card["threshold"] < 1
    assert (DEFAULT_DETECTOR / "model.safetensors").stat().st_size < 15_000_000
    with pytest.raises(FileNotFoundError, match="not found"):
        detector_path(str(tmp_path / "missing"))
    assert load_detector(str(DEFAULT_DETECTOR)).predict([""]) == [[]]
