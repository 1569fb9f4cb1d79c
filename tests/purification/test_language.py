"""Language identification (lingua, offline) and the zh-Hans / zh-Hant split."""

import polars as pl

from waterworks.assets.purification.language import chinese_script, identify_languages, with_languages

CANDIDATES = ("en", "zh", "ja", "ko", "fr", "de", "es")


def test_identifies_english_simplified_and_traditional_chinese_and_others():
    texts = ["How do I top up my card with a bank transfer?",
             "你好，我想找一家评分高的餐馆，请给我推荐一下。",
             "你好，我想找一家評分高的餐館，請給我推薦一下。",
             "Bonjour, je voudrais ouvrir un compte bancaire pour mon entreprise.",
             "Ich möchte meine Karte sperren lassen, bitte helfen Sie mir."]
    codes, scores = identify_languages(texts, CANDIDATES, 0.3)
    assert codes == ["en", "zh-Hans", "zh-Hant", "fr", "de"]
    assert all(0 < s <= 1 for s in scores)


def test_unsure_texts_fall_back_to_the_source_hint_or_und():
    codes, _ = identify_languages(["12345 67890", "!!!", "12345"], CANDIDATES, 0.3, hints=["en", None, "zh"])
    assert codes[0] == "en"
    assert codes[1] == "und"
    assert codes[2] == "zh-Hans"  # a bare "zh" hint still gets its script


def test_chinese_script():
    assert chinese_script("臺灣銀行的電話號碼") == "zh-Hant"
    assert chinese_script("台湾银行的电话号码") == "zh-Hans"
    assert chinese_script("中文") == "zh-Hans"  # the same in both scripts: Simplified by default


def test_with_languages_adds_columns():
    frame = pl.DataFrame({"body": ["Where is my card?", "我的卡在哪里？"], "hint": [None, None]})
    out = with_languages(frame, "body", list(CANDIDATES), 0.3, "hint")
    assert out["language"].to_list() == ["en", "zh-Hans"]
    assert out.schema["language_confidence"] == pl.Float64
