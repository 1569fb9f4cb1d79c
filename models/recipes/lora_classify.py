"""Recipe ``lora_classify``: fine-tune a pretrained encoder (default: the packaged all-MiniLM-L6-v2) to classify
texts, with LoRA (PEFT) or fully (``method``), for comparison.

Craft that matters on small sets like Banking77 (see bench/banking77.py): mean pooling as the encoder was
trained; the head initialised from a linear probe — a logistic regression on the frozen embeddings — before
fine-tuning (LP-FT, Kumar et al. 2022), so fine-tuning starts from a good classifier instead of distorting the
features to fit a random head; a faster learning rate for the head; cosine decay; length-bucketed batches."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch

from ..causal_lm import count_parameters
from ..distributed import current_world
from ..encoder_classifier import (
    EncoderClassifier,
    default_encoder_path,
    encode_batches,
    length_bucketed_order,
    load_encoder,
    predict,
    save_classifier,
)
from ..evaluation import classification_metrics
from ..loop import loop_config, planned_steps, recipe_sink, train_loop
from ..runtime import recipe_setup, runtime_record
from .configs import ClassifyConfig

ADAPTER = "adapter"


def _probe_head(model: EncoderClassifier, tokenizer, texts, labels, n_labels: int, config: ClassifyConfig,
                device) -> float | None:
    """Fit a logistic regression on frozen embeddings and copy it into the head; returns its train accuracy."""
    from sklearn.linear_model import LogisticRegression

    present = sorted(set(labels))
    if len(present) < 2:
        return None
    features = predict(model, tokenizer, texts, config.max_length, device, embeddings=True).numpy()
    probe = LogisticRegression(C=config.probe_c, max_iter=2000).fit(features, labels)
    weight = torch.zeros(n_labels, features.shape[1])
    bias = torch.full((n_labels,), float(probe.intercept_.min()) - 5.0)
    coef = probe.coef_ if len(present) > 2 else torch.cat([-torch.tensor(probe.coef_), torch.tensor(probe.coef_)])
    intercept = probe.intercept_ if len(present) > 2 else [-probe.intercept_[0], probe.intercept_[0]]
    for row, label in enumerate(probe.classes_):
        weight[label] = torch.as_tensor(coef[row], dtype=torch.float32)
        bias[label] = float(intercept[row])
    with torch.no_grad():
        model.head.weight.copy_(weight)
        model.head.bias.copy_(bias)
    return float(probe.score(features, labels))


def run(config: ClassifyConfig, train_texts: list[str], train_labels: list[int], validation_texts: list[str],
        validation_labels: list[int], label_names: list[str], out_dir: Path,
        log=print) -> dict:
    from peft import LoraConfig, get_peft_model

    if config.method not in ("lora", "full"):
        raise ValueError(f"method must be lora or full, not {config.method!r}")
    # --- setup
    out_dir, runtime, generator = recipe_setup("lora_classify", config, train_texts, "the classification set's train split", out_dir)
    base_path = Path(config.base_path) if config.base_path else default_encoder_path()
    encoder, tokenizer = load_encoder(base_path)
    model = EncoderClassifier(encoder, len(label_names), dropout=config.dropout).to(runtime.device)
    probe_accuracy = _probe_head(model, tokenizer, train_texts, train_labels, len(label_names), config,
                                 runtime.device) if config.linear_probe_init else None
    if config.method == "lora":
        model.encoder = get_peft_model(model.encoder, LoraConfig(
            r=config.rank, lora_alpha=config.alpha, lora_dropout=config.lora_dropout,
            target_modules=list(config.target_modules)))
    groups = [{"params": [p for n, p in model.named_parameters() if not n.startswith("head.") and p.requires_grad],
               "lr": config.encoder_lr()},
              {"params": list(model.head.parameters()), "lr": config.head_lr}]
    lengths = [len(t) for t in train_texts]
    batches_per_epoch = -(-len(train_texts) // config.batch_size)
    labels_tensor = torch.tensor(train_labels)

    def epoch_batches(epoch: int):
        order = length_bucketed_order(lengths, config.batch_size, generator)
        for index, ids, mask in encode_batches(tokenizer, train_texts, config.max_length, config.batch_size, order):
            yield {"input_ids": ids, "attention_mask": mask, "labels": labels_tensor[index]}

    def loss_fn(m, batch):
        logits = m(batch["input_ids"], batch["attention_mask"])
        loss = torch.nn.functional.cross_entropy(logits.float(), batch["labels"],
                                                 label_smoothing=config.label_smoothing)
        return loss, int(batch["attention_mask"].sum())

    def evaluate() -> dict:
        if not validation_texts:
            return {}
        logits = predict(model, tokenizer, validation_texts, config.max_length, runtime.device)
        return {f"val_{k}": v for k, v in classification_metrics(validation_labels, logits.argmax(-1).tolist()).items()}

    loop = loop_config(config, lr=config.encoder_lr())
    total = planned_steps(batches_per_epoch, loop)
    label = f"classify-{config.method}"
    sink = recipe_sink(out_dir, total, log, label)
    params = {"recipe": "lora_classify", **asdict(config), "base": str(base_path), "labels": len(label_names),
              "train_examples": len(train_texts), "validation_examples": len(validation_texts),
              "parameters": count_parameters(model), "trainable_parameters": count_parameters(model, True),
              **runtime_record(runtime)}
    sink.log_params(params)
    log(f"[{label}] {params['trainable_parameters']:,} of {params['parameters']:,} parameters trainable; "
        f"{len(train_texts)} examples, {len(label_names)} labels on {runtime.device.type}")
    probe_metrics = evaluate() if config.linear_probe_init else {}
    # --- train
    started = time.monotonic()
    result = train_loop(model, epoch_batches, batches_per_epoch, loss_fn, runtime, loop, sink, param_groups=groups,
                        evaluate=evaluate)
    seconds = time.monotonic() - started
    if not current_world().is_main:  # rank 0 saves; the others are done
        return {}
    # --- save: LoRA keeps its adapter too; the saved classifier is always merged (self-contained)
    if config.method == "lora":
        model.encoder.save_pretrained(str(out_dir / ADAPTER))
        model.encoder = model.encoder.merge_and_unload()
    save_classifier(model, tokenizer, label_names, config.max_length, out_dir,
                    extra={"method": config.method, "base": str(base_path)})
    first, last = result.first_and_last_loss()
    summary = {"recipe": "lora_classify", "method": config.method, "base": str(base_path),
               "trainable_parameters": params["trainable_parameters"], "parameters": params["parameters"],
               "steps": result.steps, "examples_per_s": round(len(train_texts) * config.epochs / seconds, 1)
               if seconds else None, "seconds": round(seconds, 2), "first_loss": round(first, 4),
               "last_loss": round(last, 4), "probe_train_accuracy": probe_accuracy,
               "probe_val_accuracy": probe_metrics.get("val_accuracy"),
               **(result.evaluations[-1] if result.evaluations else {}), "runtime": runtime_record(runtime)}
    (out_dir / "training.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    return summary


def load_lora_classifier(out_dir: Path, device: str = "cpu") -> EncoderClassifier:
    """The base encoder + the saved adapter (not merged) + the saved head: for the round-trip check."""
    from peft import PeftModel
    from safetensors.torch import load_file

    out_dir = Path(out_dir)
    meta = json.loads((out_dir / "classifier.json").read_text(encoding="utf-8"))
    encoder, _ = load_encoder(meta["base"])
    model = EncoderClassifier(PeftModel.from_pretrained(encoder, str(out_dir / ADAPTER)), len(meta["labels"]),
                              normalize=meta.get("normalize", True))
    model.head.load_state_dict(load_file(str(out_dir / "head.safetensors")))
    return model.to(device).eval()
