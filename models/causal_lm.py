"""Causal language models: Qwen2-architecture configurations from tiny (tests, CPU) to a few hundred million
parameters (GPU), built from a config with no download; loading a local Hugging Face–format base; the loss on
packed rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .runtime import Runtime


@dataclass(frozen=True)
class LmSize:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    context: int


# Parameter counts at a 32k vocabulary (tied embeddings): tiny ≈ 2.3 M, small ≈ 11 M, base ≈ 110 M,
# medium ≈ 360 M. `tiny` is for tests, `small` for CPU runs, base/medium for GPUs.
SIZES = {
    "tiny": LmSize(hidden=64, layers=2, heads=4, kv_heads=2, intermediate=192, context=512),
    "small": LmSize(hidden=256, layers=4, heads=4, kv_heads=2, intermediate=704, context=1024),
    "base": LmSize(hidden=768, layers=12, heads=12, kv_heads=4, intermediate=2048, context=2048),
    "medium": LmSize(hidden=1024, layers=24, heads=16, kv_heads=4, intermediate=2816, context=2048),
}


def qwen2_config(size: str, tokenizer):
    from transformers import Qwen2Config

    if size not in SIZES:
        raise ValueError(f"unknown model size {size!r}; known: {sorted(SIZES)}")
    s = SIZES[size]
    return Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=s.hidden, num_hidden_layers=s.layers, num_attention_heads=s.heads,
        num_key_value_heads=s.kv_heads, intermediate_size=s.intermediate, max_position_embeddings=s.context,
        tie_word_embeddings=True, rope_theta=10000.0, use_cache=False,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)


def build_from_config(config, runtime: Runtime, seed: int, attn: str = "sdpa"):
    """A freshly initialised model (seeded) on the runtime's device. Weights stay float32 on every device (bf16
    comes from autocast on CUDA), so that AdamW's updates are exact."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation=attn)
    return model.to(runtime.device)


def load_base(path: Path | str, runtime: Runtime):
    """A local Hugging Face–format causal LM and its tokenizer (offline: a path, never a hub id)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: not a Hugging Face model folder (no config.json); a base model is a "
                                "local path, e.g. an internal mirror of a Qwen checkpoint")
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True, attn_implementation="sdpa",
                                                 dtype=torch.float32)
    return model.to(runtime.device), tokenizer


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def lm_loss(model, batch: dict) -> tuple[torch.Tensor, int]:
    """Mean next-token loss over labelled positions of packed rows; tokens = real (non-pad) positions processed."""
    out = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], labels=batch["labels"],
                use_cache=False)
    tokens = int(batch["real"].sum())
    return out.loss, tokens
