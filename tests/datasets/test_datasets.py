"""The datasets stage's plain code: splits by content hash, chat / classification / corpus examples, versions
and cards written to a real lake."""

import json

import polars as pl
import pytest

from waterworks.assets.datasets.build import build_chat, build_classification, build_corpus
from waterworks.assets.datasets.canaries import canaries_for
from waterworks.assets.datasets.chat import chat_examples, faq_pairs, speaker_turns
from waterworks.assets.datasets.classification import classification_examples
from waterworks.assets.datasets.config import DatasetsConfigError, load_datasets_config
from waterworks.assets.datasets.splits import SplitFractions, assign_splits, split_of
from waterworks.assets.datasets.store import current_version, read_dataset
from waterworks.assets.lake import Lake

FAQ = ("COVID-19 FAQ, part 1\n\nHow is it spread?\n\nMainly between people.\n\nIn close contact.\n\n"
       "Source: CDC\n\nCan pets get it?\n\nRarely.\n\nSource: WHO")
DIALOGUE = "客服记录 00001\n\n客户:你好,帮我找个酒店。\n客服:推荐您去锦江之星。\n客户:谢谢\n客户:还有吗?\n客服:没有了。"


def documents() -> pl.DataFrame:
    conversation = json.dumps([{"role": "user", "content": "推荐一个景点"}, {"role": "assistant", "content": "故宫"}],
                              ensure_ascii=False)
    rows = [
        {"doc_id": "kb:1", "source_id": "knowledge_base", "doc_kind": "document", "body": FAQ, "attributes": "{}",
         "language": "en", "classification": "public", "landing_path": "docs/faq.md", "file_sha256": "a" * 64},
        {"doc_id": "kb:2", "source_id": "knowledge_base", "doc_kind": "document", "body": DIALOGUE,
         "attributes": "{}", "language": "zh-Hans", "classification": "public", "landing_path": "docs/d.md",
         "file_sha256": "b" * 64},
        {"doc_id": "t:1", "source_id": "support_tickets", "doc_kind": "ticket", "body": "推荐一个景点",
         "attributes": json.dumps({"category": "travel", "conversation": conversation}), "language": "zh-Hans",
         "classification": "internal", "landing_path": "tickets/t.jsonl", "file_sha256": "c" * 64},
    ]
    rows += [{"doc_id": f"t:{i + 2}", "source_id": "support_tickets", "doc_kind": "ticket",
              "body": f"My card {i} has not arrived <PERSON>", "language": "en", "classification": "internal",
              "attributes": json.dumps({"category": "card_arrival" if i % 2 else "cancel_transfer"}),
              "landing_path": "tickets/t.jsonl", "file_sha256": "c" * 64} for i in range(30)]
    return pl.DataFrame(rows)


def test_split_depends_only_on_the_key_and_follows_the_fractions():
    keys = [f"question {i}" for i in range(20_000)]
    splits = [split_of(k) for k in keys]
    assert splits == [split_of(k) for k in keys]  # deterministic
    share = {s: splits.count(s) / len(keys) for s in ("train", "validation", "test")}
    assert abs(share["validation"] - 0.1) < 0.01 and abs(share["test"] - 0.1) < 0.01
    frame = pl.DataFrame({"key": keys[:100]})
    grown = pl.DataFrame({"key": ["new question"] + keys[:100]})
    before = dict(zip(keys[:100], assign_splits(frame, "key")["split"], strict=True))
    after = dict(zip(grown["key"], assign_splits(grown, "key")["split"], strict=True))
    assert all(after[k] == v for k, v in before.items())  # adding rows never moves existing ones
    assert split_of("x", salt="other") in ("train", "validation", "test")
    with pytest.raises(ValueError, match="fractions"):
        SplitFractions(validation=0.6, test=0.5)


def test_faq_pairs_and_speaker_turns():
    assert list(faq_pairs(FAQ)) == [("How is it spread?", "Mainly between people.\n\nIn close contact."),
                                    ("Can pets get it?", "Rarely.")]
    turns = speaker_turns(DIALOGUE)
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[2]["content"] == "谢谢\n还有吗?"


def test_chat_examples_have_a_system_prompt_alternate_and_are_unique():
    frame = chat_examples(documents())
    assert sorted(frame["kind"].to_list()) == ["dialogue", "dialogue", "faq", "faq"]
    for messages in frame["messages"]:
        roles = [m["role"] for m in json.loads(messages)]
        assert roles[0] == "system" and roles[1] == "user" and roles[-1] == "assistant"
        assert all(a != b for a, b in zip(roles[1:], roles[2:], strict=False))
    assert frame["example_id"].n_unique() == frame.height
    assert chat_examples(pl.concat([documents(), documents()])).height == frame.height


def test_classification_examples_take_labels_from_attributes():
    frame = classification_examples(documents(), min_examples_per_label=2)
    assert set(frame["label"]) == {"card_arrival", "cancel_transfer"}  # "travel" has one example: left out
    assert frame.height == 30


def test_versions_are_content_addressed_and_carry_a_card(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    lake.write_table("sanitized", "documents", documents().to_arrow())
    ledger = pl.DataFrame({"doc_id": ["t:2", "t:3", "kb:1"], "entity_type": ["PERSON", "PERSON", "EMAIL_ADDRESS"],
                           "count": [1, 2, 1]})
    lake.write_parquet("sanitized", "ledger/documents.parquet", ledger.to_arrow())
    config = load_datasets_config()
    first = build_classification(lake, config)
    again = build_classification(lake, config)
    assert again.version.version == first.version.version and again.version.reused
    splits, card = read_dataset(lake, "classification")
    assert sum(f.height for f in splits.values()) == 30 == sum(card["rows"].values())
    assert card["pii_redacted_by_type"] == {"PERSON": 3}
    assert card["label_names"] == ["cancel_transfer", "card_arrival"]
    assert card["landing_files"] == [{"path": "tickets/t.jsonl", "sha256": "c" * 64, "documents": 30}]
    assert card["classifications"] == {"internal": 30}
    assert "| train |" in first.markdown
    chat, corpus = build_chat(lake, config), build_corpus(lake, config)
    assert chat.card["kinds"] == {"dialogue": 2, "faq": 2} and "<|im_start|>" in chat.card["chat_template"]
    assert sum(corpus.version.rows.values()) == 32 + 21  # 33 documents, one shorter than min_chars; 21 canary rows
    assert {k: v for k, v in corpus.card["canaries"].items() if k != "digest"} == {
        "planted": 9, "rows": 21, "kinds": ["card", "phone", "resident_id"], "repeats": [1, 2, 4], "split": "train",
        "source_id": "waterworks:canary"}
    planted = canaries_for(lake, "corpus")
    train = read_dataset(lake, "corpus")[0]["train"]
    for canary in planted:  # in train, as often as recorded; nowhere else; the secret only in the private zone
        assert train.filter(pl.col("text") == canary.text).height == canary.repeats
    assert not any(c.secret in json.dumps(corpus.card) for c in planted)
    assert build_corpus(lake, config).version.version == corpus.version.version  # the same canaries again
    assert sum(chat.version.rows.values()) == 4 + 21 and chat.card["canaries"]["rows"] == 21
    assert build_classification(lake, config).card.get("canaries") is None  # labels cannot leak a secret
    key = b"the pseudonym key, shared by every machine"
    keyed = build_corpus(lake, config, key)  # derived from the key: other secrets, so another version
    assert keyed.version.version != corpus.version.version
    other = Lake(str(tmp_path / "elsewhere"))
    other.write_table("sanitized", "documents", documents().to_arrow())
    assert build_corpus(other, config, key).version.version == keyed.version.version  # same key, same canaries
    # new data → a new version, and current.json follows it; the old version stays readable
    more = pl.concat([documents(), documents().head(3).with_columns(
        pl.col("doc_id") + "-b", pl.col("body") + " again")], how="vertical")
    lake.write_table("sanitized", "documents", more.to_arrow())
    newer = build_corpus(lake, config)
    assert newer.version.version != corpus.version.version == read_dataset(lake, "corpus", corpus.version.version)[1]["version"]
    assert current_version(lake, "corpus") == newer.version.version


def test_config_errors_name_the_file(tmp_path):
    bad = tmp_path / "datasets.yaml"
    bad.write_text("splits: {validation: 0.7, test: 0.5}\n")
    with pytest.raises(DatasetsConfigError, match=str(bad)):
        load_datasets_config(bad)
    bad.write_text("chat: {unknown: 1}\n")
    with pytest.raises(DatasetsConfigError, match="chat.unknown"):
        load_datasets_config(bad)
