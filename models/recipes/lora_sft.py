"""Recipe ``lora_sft``: LoRA (PEFT) fine-tuning of a causal LM base on chat examples — a local Hugging Face
model folder (an internal mirror of e.g. a Qwen checkpoint, or the model ``pretrain`` made) — with the loss on
the assistant's tokens only and packed rows. Saves the adapter and the merged model."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from ..causal_lm import count_parameters, lm_loss, load_base
from ..distributed import current_world
from ..evaluation import generate, perplexity
from ..loop import loop_config, planned_steps, recipe_sink, train_loop
from ..runtime import pick_runtime, recipe_setup, runtime_record
from ..text import ensure_chat_template, pack, packing_efficiency, row_batches, tokenize_chat
from .configs import LoraSftConfig

ADAPTER, MERGED = "adapter", "merged"


def lora_config(config: LoraSftConfig):
    from peft import LoraConfig, TaskType

    targets = config.target_modules if isinstance(config.target_modules, str) else list(config.target_modules)
    return LoraConfig(task_type=TaskType.CAUSAL_LM, r=config.rank, lora_alpha=config.alpha,
                      lora_dropout=config.dropout, target_modules=targets)


def run(config: LoraSftConfig, base_path: Path, train_chats: list[list[dict]], validation_chats: list[list[dict]],
        out_dir: Path, log=print,
        generation_prompts: list[list[dict]] | None = None) -> dict:
    from peft import get_peft_model

    # --- setup
    out_dir, runtime, generator = recipe_setup("lora_sft", config, train_chats, "the chat set's train split", out_dir)
    base, tokenizer = load_base(base_path, runtime)
    ensure_chat_template(tokenizer)
    if len(tokenizer) > base.get_input_embeddings().num_embeddings:
        base.resize_token_embeddings(len(tokenizer))
    if config.gradient_checkpointing:
        base.gradient_checkpointing_enable()
        base.enable_input_require_grads()
    model = get_peft_model(base, lora_config(config))
    pad = tokenizer.pad_token_id
    train = pack((tokenize_chat(tokenizer, m) for m in train_chats), config.seq_len, pad)
    validation = pack((tokenize_chat(tokenizer, m) for m in validation_chats), config.seq_len, pad)
    rows = train["input_ids"].shape[0]
    batches_per_epoch = -(-rows // config.batch_size)
    loop = loop_config(config, grad_accum=config.grad_accum)
    total = planned_steps(batches_per_epoch, loop)
    sink = recipe_sink(out_dir, total, log, "lora_sft")
    params = {"recipe": "lora_sft", **asdict(config), "base": str(base_path),
              "parameters": count_parameters(model), "trainable_parameters": count_parameters(model, True),
              "train_rows": rows, "train_conversations": len(train_chats),
              "packing_efficiency": round(packing_efficiency(train), 4), **runtime_record(runtime)}
    sink.log_params(params)
    log(f"[lora_sft] {params['trainable_parameters']:,} of {params['parameters']:,} parameters trainable, {rows} "
        f"packed rows of {config.seq_len} tokens on {runtime.device.type}")
    before = perplexity(model, validation, runtime) if validation["input_ids"].shape[0] else {}
    # --- train
    evaluate = (lambda: perplexity(model, validation, runtime)) if validation["input_ids"].shape[0] else None
    started = time.monotonic()
    result = train_loop(model, lambda epoch: row_batches(train, config.batch_size, generator), batches_per_epoch,
                        lm_loss, runtime, loop, sink, evaluate=evaluate)
    if not current_world().is_main:  # rank 0 saves; the others are done
        return {}
    # --- save: the adapter alone (small, needs the base) and the merged model (self-contained)
    model.save_pretrained(str(out_dir / ADAPTER))
    tokenizer.save_pretrained(str(out_dir / ADAPTER))
    samples = generate(model, tokenizer, generation_prompts or [], runtime, max_new_tokens=32)
    merged = model.merge_and_unload()
    merged.config.use_cache = True
    merged.save_pretrained(str(out_dir / MERGED), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir / MERGED))
    first, last = result.first_and_last_loss()
    summary = {"recipe": "lora_sft", "base": str(base_path),
               "adapter": ADAPTER, "merged": MERGED,
               "trainable_parameters": params["trainable_parameters"], "parameters": params["parameters"],
               "steps": result.steps, "tokens": result.tokens, "seconds": round(time.monotonic() - started, 2),
               "tokens_per_s": round(result.tokens_per_second, 1), "first_loss": round(first, 4),
               "last_loss": round(last, 4), "perplexity_before": before.get("perplexity"),
               **(result.evaluations[-1] if result.evaluations else {}),
               "generations": [{"prompt": p[-1]["content"], "answer": a}
                               for p, a in zip(generation_prompts or [], samples, strict=True)],
               "runtime": runtime_record(runtime)}
    (out_dir / "training.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    return summary


def load_adapter(base_path: Path, adapter_path: Path, device: str = "cpu"):
    """Base + saved adapter (not merged) — for the round-trip check and for serving adapters separately."""
    from peft import PeftModel

    runtime = pick_runtime(device)
    base, tokenizer = load_base(base_path, runtime)
    ensure_chat_template(tokenizer)
    if len(tokenizer) > base.get_input_embeddings().num_embeddings:
        base.resize_token_embeddings(len(tokenizer))
    return PeftModel.from_pretrained(base, str(adapter_path)), tokenizer
