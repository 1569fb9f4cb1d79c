"""The three recipes in tiny configurations on CPU: the loss falls; save → reload → merge gives the same
outputs; runs are reproducible."""

import json

import pytest
import torch

CHATS = [[{"role": "system", "content": "You help."}, {"role": "user", "content": q},
          {"role": "assistant", "content": a}] for q, a in [
    ("Where is my card?", "Your card ships within three days."),
    ("How do I reset my PIN?", "Open the app, choose Card, then Reset PIN."),
    ("推荐一家酒店", "推荐您去北京中裕世纪大酒店。"),
    ("Can I cancel a transfer?", "Pending transfers can be cancelled in the app."),
]] * 6


def test_pretrain_loss_falls_and_model_reloads(tiny_lm):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, summary = tiny_lm
    assert summary["last_loss"] < summary["first_loss"] * 0.7, summary
    assert summary["perplexity"] < 200
    assert json.loads((folder / "training.json").read_text())["steps"] == summary["steps"]
    metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "loss" in m] == list(range(1, summary["steps"] + 1))
    AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True)
    assert AutoTokenizer.from_pretrained(str(folder), local_files_only=True).chat_template


def test_pretrain_is_reproducible(tmp_path, corpus_texts):
    from waterworks.models.recipes.pretrain import PretrainConfig, run

    config = PretrainConfig(size="tiny", vocab_size=300, seq_len=32, batch_size=4, max_steps=4, epochs=1, device="cpu")
    a = run(config, corpus_texts[:20], [], tmp_path / "a", log=lambda _: None)
    b = run(config, corpus_texts[:20], [], tmp_path / "b", log=lambda _: None)
    assert a["first_loss"] == b["first_loss"] and a["last_loss"] == b["last_loss"]


def test_lora_sft_learns_answers_and_adapter_round_trip_equals_merged(tmp_path, tiny_lm):
    from waterworks.models.causal_lm import load_base
    from waterworks.models.recipes.lora_sft import LoraSftConfig, load_adapter, run
    from waterworks.models.runtime import pick_runtime

    config = LoraSftConfig(rank=8, alpha=16, dropout=0.0, seq_len=128, batch_size=4, epochs=6, lr=1e-2, device="cpu")
    summary = run(config, tiny_lm[0], CHATS, CHATS[:4], tmp_path, log=lambda _: None,
                  generation_prompts=[CHATS[0][:2]])
    assert summary["last_loss"] < summary["first_loss"] * 0.8, summary
    assert summary["perplexity"] < summary["perplexity_before"]
    assert 0 < summary["trainable_parameters"] < summary["parameters"] / 2
    merged, tokenizer = load_base(tmp_path / "merged", pick_runtime("cpu"))
    adapted, _ = load_adapter(tiny_lm[0], tmp_path / "adapter")
    ids = tokenizer("Where is my card?", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        merged.eval(), adapted.eval()
        assert torch.allclose(merged(input_ids=ids).logits, adapted(input_ids=ids).logits, atol=1e-4)


@pytest.mark.parametrize("method", ["lora", "full"])
def test_classifier_loss_falls_and_saved_model_gives_the_same_logits(tmp_path, method):
    from waterworks.models.encoder_classifier import load_classifier, predict
    from waterworks.models.recipes.lora_classify import ClassifyConfig, load_lora_classifier, run

    texts = ["my card has not arrived", "where is my new card", "card still not here",
             "cancel the transfer", "stop my payment please", "revert the transfer I sent"] * 4
    labels = [0, 0, 0, 1, 1, 1] * 4
    config = ClassifyConfig(method=method, epochs=3, batch_size=8, max_length=16, linear_probe_init=False,
                            lr=5e-4 if method == "full" else 3e-3, head_lr=1e-2, device="cpu")
    summary = run(config, texts, labels, texts[:6], labels[:6], ["card_arrival", "cancel_transfer"], tmp_path,
                  log=lambda _: None)
    assert summary["last_loss"] < summary["first_loss"], summary
    assert summary["val_accuracy"] == 1.0
    model, tokenizer, meta = load_classifier(tmp_path)
    assert meta["labels"] == ["card_arrival", "cancel_transfer"] and meta["method"] == method
    saved = predict(model, tokenizer, texts[:6], 16, "cpu")
    assert saved.argmax(-1).tolist() == labels[:6]
    if method == "lora":  # base + adapter + head (unmerged) = the merged, saved classifier
        unmerged = predict(load_lora_classifier(tmp_path), tokenizer, texts[:6], 16, "cpu")
        assert torch.allclose(saved, unmerged, atol=1e-4)
        assert summary["trainable_parameters"] < summary["parameters"] / 10


def test_linear_probe_initialises_the_head_before_fine_tuning(tmp_path):
    from waterworks.models.recipes.lora_classify import ClassifyConfig, run

    texts = ["my card has not arrived", "where is my new card", "cancel the transfer", "stop my payment"] * 3
    labels = [0, 0, 1, 1] * 3
    summary = run(ClassifyConfig(method="lora", max_steps=1, epochs=1, batch_size=4, max_length=16, device="cpu"),
                  texts, labels, texts[:4], labels[:4], ["a", "b"], tmp_path, log=lambda _: None)
    assert summary["probe_train_accuracy"] == 1.0 and summary["probe_val_accuracy"] == 1.0


def test_loop_refuses_data_that_gives_no_optimizer_step():
    from waterworks.models.loop import LoopConfig, train_loop
    from waterworks.models.runtime import pick_runtime

    model = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match="batch"):
        train_loop(model, lambda epoch: iter(()), 1, lambda m, b: (m.weight.sum(), 1), pick_runtime("cpu"),
                   LoopConfig(max_steps=3), _Quiet())


class _Quiet:
    def log_params(self, params): pass
    def log_metrics(self, metrics, step): pass
    def log_artifact(self, path): pass
