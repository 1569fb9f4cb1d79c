"""Tokenizer, chat labels and packing (models/text.py)."""

import torch

from waterworks.models.text import (
    IGNORE,
    pack,
    packing_efficiency,
    tokenize_chat,
    tokenize_document,
    train_bpe_tokenizer,
)

CHAT = [{"role": "system", "content": "You help."}, {"role": "user", "content": "Where is my card?"},
        {"role": "assistant", "content": "It ships today."}, {"role": "user", "content": "谢谢"},
        {"role": "assistant", "content": "不客气"}]


def test_trained_tokenizer_reloads_with_autotokenizer_and_round_trips_any_script(tmp_path, corpus_texts):
    """Reloaded from a Qwen2 model folder, transformers builds a Qwen2Tokenizer (its own pre-tokenizer and NFC):
    the tokens must be the ones the model was trained on, numbers included."""
    from transformers import AutoTokenizer

    from waterworks.models.causal_lm import qwen2_config

    tokenizer = train_bpe_tokenizer(corpus_texts + ["call me on 13907215546 or 021-5555 1234"] * 5, 400, tmp_path)
    qwen2_config("tiny", tokenizer).save_pretrained(str(tmp_path))
    reloaded = AutoTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    text = "Grüße 你好 <card> 12345, call me on 13907215546."
    assert reloaded(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert reloaded.decode(reloaded(text)["input_ids"]) == text  # byte-level: no unknown token
    assert reloaded.chat_template and reloaded.pad_token == "<|pad|>" and reloaded.eos_token == "<|endoftext|>"


def test_chat_labels_cover_only_the_assistant_turns(corpus_texts):
    tokenizer = train_bpe_tokenizer(corpus_texts, 400)
    example = tokenize_chat(tokenizer, CHAT)
    learned = tokenizer.decode([t for t, label in zip(example.input_ids, example.labels, strict=True)
                                if label != IGNORE])
    assert "It ships today." in learned and "不客气" in learned
    assert "Where is my card" not in learned and "You help" not in learned and "谢谢" not in learned
    assert learned.count("<|im_end|>") == 2  # the model learns to stop after each answer


def test_packing_restarts_positions_and_keeps_every_token(corpus_texts):
    tokenizer = train_bpe_tokenizer(corpus_texts, 400)
    examples = [tokenize_document(tokenizer, t) for t in corpus_texts[:10]]
    packed = pack(examples, 64, tokenizer.pad_token_id, split_long=True)
    assert packed["input_ids"].shape[1] == 64
    assert int(packed["real"].sum()) == sum(len(e.input_ids) for e in examples)
    assert packing_efficiency(packed) > 0.6
    starts = int((packed["position_ids"] == 0).sum())
    assert starts >= len(examples)  # every example (and pad tail) restarts at 0


def test_packed_examples_do_not_attend_to_each_other(tiny_lm):
    """Logits of an example inside a packed row equal its logits alone: the block-diagonal mask holds."""
    from waterworks.models.causal_lm import load_base
    from waterworks.models.runtime import pick_runtime

    model, tokenizer = load_base(tiny_lm[0], pick_runtime("cpu"))
    model.eval()
    first = tokenize_document(tokenizer, "I want to cancel a transfer.")
    second = tokenize_document(tokenizer, "请帮我推荐一家酒店。")
    packed = pack([first, second], 64, tokenizer.pad_token_id)
    with torch.no_grad():
        together = model(input_ids=packed["input_ids"], position_ids=packed["position_ids"], use_cache=False).logits
        alone = model(input_ids=torch.tensor([second.input_ids]), use_cache=False).logits
    start = len(first.input_ids)
    assert torch.allclose(together[0, start:start + len(second.input_ids)], alone[0], atol=1e-4)
