"""Recipe ``pretrain``: a small causal LM from scratch — a byte-level BPE tokenizer trained on the corpus, a
Qwen2-architecture model from a config, packed next-token training, perplexity on the held-out split."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from ..causal_lm import build_from_config, count_parameters, lm_loss, qwen2_config
from ..distributed import current_world
from ..evaluation import generate, perplexity
from ..loop import loop_config, planned_steps, recipe_sink, train_loop
from ..runtime import recipe_setup, runtime_record
from ..text import pack, packing_efficiency, row_batches, tokenize_document, train_bpe_tokenizer
from .configs import PretrainConfig


def run(config: PretrainConfig, train_texts: list[str], validation_texts: list[str], out_dir: Path,
        log=print) -> dict:
    """Train and save to ``out_dir`` (a Hugging Face model folder with its tokenizer); returns the summary that
    is also written to ``out_dir/training.json``."""
    # --- setup
    out_dir, runtime, generator = recipe_setup("pretrain", config, train_texts, "the corpus's train split", out_dir)
    tokenizer = train_bpe_tokenizer(train_texts, config.vocab_size)
    model = build_from_config(qwen2_config(config.size, tokenizer), runtime, config.seed)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    pad = tokenizer.pad_token_id
    train = pack((tokenize_document(tokenizer, t) for t in train_texts), config.seq_len, pad, split_long=True)
    validation = pack((tokenize_document(tokenizer, t) for t in validation_texts), config.seq_len, pad,
                      split_long=True)
    rows = train["input_ids"].shape[0]
    batches_per_epoch = -(-rows // config.batch_size)
    loop = loop_config(config, grad_accum=config.grad_accum)
    total = planned_steps(batches_per_epoch, loop)
    sink = recipe_sink(out_dir, total, log, "pretrain")
    params = {"recipe": "pretrain", **asdict(config), "parameters": count_parameters(model),
              "vocab": len(tokenizer), "train_rows": rows, "train_documents": len(train_texts),
              "packing_efficiency": round(packing_efficiency(train), 4), **runtime_record(runtime)}
    sink.log_params(params)
    log(f"[pretrain] {params['parameters']:,} parameters ({config.size}), {rows} packed rows of {config.seq_len} "
        f"tokens on {runtime.device.type}")
    # --- train
    evaluate = (lambda: perplexity(model, validation, runtime)) if validation["input_ids"].shape[0] else None
    started = time.monotonic()
    result = train_loop(model, lambda epoch: row_batches(train, config.batch_size, generator), batches_per_epoch,
                        lm_loss, runtime, loop, sink, evaluate=evaluate)
    if not current_world().is_main:  # rank 0 saves; the others are done
        return {}
    # --- save
    model.config.use_cache = True
    model.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
    samples = generate(model, tokenizer, list(config.generation_prompts), runtime, max_new_tokens=24)
    first, last = result.first_and_last_loss()
    summary = {"recipe": "pretrain", "parameters": params["parameters"],
               "steps": result.steps, "tokens": result.tokens, "seconds": round(time.monotonic() - started, 2),
               "tokens_per_s": round(result.tokens_per_second, 1), "first_loss": round(first, 4),
               "last_loss": round(last, 4), **(result.evaluations[-1] if result.evaluations else {}),
               "generations": dict(zip(config.generation_prompts, samples, strict=True)),
               "runtime": runtime_record(runtime)}
    (out_dir / "training.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    return summary
