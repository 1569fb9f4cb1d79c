"""Exact and MinHash-LSH near-duplicate detection on small, known cases."""

import random

import numpy as np
import polars as pl
import pytest

from waterworks.assets.purification.config import DedupConfig
from waterworks.assets.purification.dedup import SCHEMES, TokenStream, find_duplicates
from waterworks.assets.purification.dedup_eval import pairwise_scores, truth_labels
from waterworks.assets.purification.normalize import convert_chinese

CONFIG = DedupConfig()
WORDS = [f"w{i}" for i in range(3000)]


def _doc(rng: random.Random, n: int = 200) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _edit(rng: random.Random, text: str, rate: float) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), int(len(words) * rate)):
        words[i] = rng.choice(WORDS)
    return " ".join(words)


def run(texts, cjk=None, config=CONFIG):
    cjk = np.zeros(len(texts), bool) if cjk is None else np.asarray(cjk)
    return find_duplicates(pl.Series(texts, dtype=pl.String), cjk, config)


def test_exact_duplicates_ignore_case_punctuation_and_spacing():
    result = run(["Where is my card?", "where  is my CARD", "Where is my card, please?", "where is my card!"])
    assert result.representative.tolist() == [0, 0, 2, 0]
    assert result.reason == [None, "exact_duplicate", None, "exact_duplicate"]
    assert result.cluster_size.tolist() == [3, 3, 1, 3]


def test_near_duplicates_with_small_edits_are_found_and_unrelated_documents_are_not():
    rng = random.Random(3)
    originals = [_doc(rng) for _ in range(50)]
    copies = [_edit(rng, originals[i], 0.015) for i in range(0, 50, 5)]
    result = run(originals + copies)
    assert result.representative[50:].tolist() == list(range(0, 50, 5))
    assert all(r == "near_duplicate" for r in result.reason[50:])
    assert result.kept[:50].all()  # no two originals merged


def test_reordered_paragraphs_are_near_duplicates():
    rng = random.Random(4)
    paragraphs = [_doc(rng, 60) for _ in range(8)]
    result = run(["\n\n".join(paragraphs), "\n\n".join(reversed(paragraphs))])
    assert result.reason == [None, "near_duplicate"]


def test_chinese_character_shingles_and_traditional_copy_through_the_simplified_key():
    simplified = ("客户：你好，我想找一家评分高的餐馆，请给我推荐一下。客服：推荐您去全聚德烤鸭店，那里的烤鸭很有名。"
                  "客户：这家餐馆的电话是多少？客服：电话是010-65112418。客户：好的，谢谢你的帮助，再见。")
    traditional = pl.DataFrame({"t": [simplified]}).select(convert_chinese(pl.col("t"), "s2tw")).item()
    assert traditional != simplified
    edited = simplified.replace("很有名", "很出名")  # one character of ~100
    other = "客户：请问明天北京的天气怎么样？客服：明天北京晴，最高气温二十五度，适合外出游玩。客户：好的，谢谢。"
    key = pl.DataFrame({"t": [simplified, traditional, edited, other]}) \
        .select(convert_chinese(pl.col("t"), "t2s")).to_series().to_list()
    result = run(key, cjk=[True] * 4)
    assert result.representative.tolist() == [0, 0, 0, 3]
    assert result.reason[1] in {"exact_duplicate", "near_duplicate"}
    assert result.reason[2] == "near_duplicate"


def test_documents_without_tokens_are_never_near_duplicates_of_each_other_by_accident():
    result = run(["", "...", "A real document about cards and accounts and transfers."])
    assert result.reason[2] is None


@pytest.mark.parametrize("scheme", ["one_permutation", "permutations"])
def test_minhash_estimates_jaccard_similarity(scheme):
    def shingles(text):
        words = text.split()
        return {tuple(words[i:i + 5]) for i in range(len(words) - 4)}

    rng = random.Random(5)
    for rate in (0.01, 0.03, 0.08, 0.3):
        base = _doc(rng, 400)
        copy = _edit(rng, base, rate)
        true_j = len(shingles(base) & shingles(copy)) / len(shingles(base) | shingles(copy))
        stream = TokenStream.from_texts(pl.Series([base, copy]), 42)
        signatures = SCHEMES[scheme](stream, np.array([5, 5]), CONFIG)
        estimated = (signatures[0] == signatures[1]).mean()
        assert abs(estimated - true_j) < 0.1, (rate, true_j, estimated)


@pytest.mark.parametrize("scheme", ["one_permutation", "permutations"])
def test_short_documents_are_deduplicated_exactly_only(scheme):
    config = DedupConfig(scheme=scheme, near_min_tokens=20)
    result = run(["What ATMs can I use my card at?", "What ATMs can I use my card?", "what atms can i use my card?"],
                 config=config)
    assert result.reason == [None, None, "exact_duplicate"]
    loose = run(["What ATMs can I use my card at?", "What ATMs can I use my card?"],
                config=DedupConfig(scheme=scheme, near_min_tokens=1, threshold=0.6))
    assert loose.reason == [None, "near_duplicate"]  # 3 of 4 shingles shared


def test_densified_signatures_of_tiny_documents_compare_sensibly():
    stream = TokenStream.from_texts(pl.Series(["a b c d e f", "a b c d e f", "u v w x y z"]), 42)
    signatures = SCHEMES["one_permutation"](stream, np.array([5, 5, 5]), CONFIG)
    assert (signatures[0] == signatures[1]).all()
    assert (signatures[0] == signatures[2]).mean() < 0.1


def test_deterministic():
    rng = random.Random(6)
    texts = [_doc(rng) for _ in range(20)]
    texts += [_edit(rng, t, 0.01) for t in texts[:5]]
    first, second = run(texts), run(texts)
    assert first.representative.tolist() == second.representative.tolist()


def test_pairwise_scores_and_truth_labels():
    truth = truth_labels(["a", "b", "c", "d"], [0, 0, 0, 0], pl.Series(["x", "y", "x", "z"]),
                         [{"group": 0, "kind": "small_edits", "members": [{"file": "a", "record": 0},
                                                                          {"file": "b", "record": 0}]}])
    assert truth.tolist() == [0, 0, 0, 3]  # a~b planted, a=c identical text
    scores = pairwise_scores(np.array([0, 0, 2, 2]), truth)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (3, 2, 1)
    assert scores.precision == 0.5 and abs(scores.recall - 1 / 3) < 1e-9
    # Only pairs touching the focus documents (here a and b) count.
    focused = pairwise_scores(np.array([0, 0, 2, 2]), truth, focus=np.array([True, True, False, False]))
    assert (focused.true_pairs, focused.predicted_pairs, focused.correct_pairs) == (3, 1, 1)
