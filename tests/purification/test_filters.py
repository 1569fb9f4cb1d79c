"""Quality filters: each on documents that must pass and must fail, and the per-reason accounting."""

import polars as pl
import pytest

from waterworks.assets.purification.config import FilterConfig
from waterworks.assets.purification.filters import DropStats, apply_filters, quality_filters

CONFIG = FilterConfig(min_tokens=3, max_tokens=50, max_symbol_ratio=0.3, max_duplicate_line_ratio=0.5,
                      min_alpha_token_ratio=0.5, max_boilerplate_line_ratio=0.5,
                      boilerplate_patterns=["lorem ipsum", "all rights reserved", "版权所有"])


def reasons(texts):
    frame = pl.DataFrame({"id": [str(i) for i in range(len(texts))], "body": texts})
    kept, dropped = apply_filters(frame, quality_filters(CONFIG))
    by_id = dict(zip(dropped["id"], dropped["drop_reason"], strict=True))
    assert kept.height + dropped.height == frame.height
    return [by_id.get(str(i)) for i in range(len(texts))]


@pytest.mark.parametrize(("text", "reason"), [
    ("How do I activate my new card?", None),
    ("我想查询一下信用卡的还款日期。", None),       # CJK characters count as tokens
    ("", "empty"),
    ("   \n ", "empty"),
    ("ok thanks", "too_short"),
    ("好的", "too_short"),
    (" ".join(["word"] * 51), "too_long"),
    ("### ### ### buy it now ### ###", "symbol_ratio"),
    ("★★★★★ 非常好评 ★★★★★ ★★★★★", "symbol_ratio"),
    ("1234 5678 9012 3456 7890 ok", "alpha_ratio"),
    ("buy now\nbuy now\nbuy now\nbuy now\nreal line", "duplicate_lines"),
    ("点击购买\n点击购买\n点击购买\n点击购买\n真实内容在这里", "duplicate_lines"),
    ("Lorem ipsum dolor sit amet\nAll rights reserved 2024\nSome real text here", "boilerplate"),
    ("版权所有 2024 某某公司\n版权所有，翻印必究\n正文内容", "boilerplate"),
])
def test_each_filter(text, reason):
    assert reasons([text]) == [reason]


def test_first_failing_filter_is_the_reason_and_stats_count_by_reason():
    frame = pl.DataFrame({"id": ["a", "b", "c", "d", "e"],
                          "body": ["", "hi", "hey", "A fine sentence with words.", "#### #### #### go go go"]})
    kept, dropped = apply_filters(frame, quality_filters(CONFIG))
    assert kept["id"].to_list() == ["d"]
    stats = DropStats()
    stats.add(dropped, "id")
    assert stats.counts == {"empty": 1, "too_short": 2, "symbol_ratio": 1}
    assert stats.examples["too_short"] == ["b", "c"]
    assert stats.total == 4


def test_examples_are_capped_and_never_text():
    frame = pl.DataFrame({"id": [f"doc{i}" for i in range(20)], "body": ["x"] * 20})
    _, dropped = apply_filters(frame, quality_filters(CONFIG))
    stats = DropStats()
    stats.add(dropped, "id")
    assert stats.counts == {"too_short": 20}
    assert stats.examples["too_short"] == [f"doc{i}" for i in range(5)]
