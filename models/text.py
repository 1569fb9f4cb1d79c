"""Text → tokens for the recipes: a byte-level BPE tokenizer trained here, the ChatML chat template,
assistant-only labels for chat fine-tuning, and sequence packing.

Packing puts several examples into one fixed-length row; ``position_ids`` restart at 0 where each example
starts, and transformers turns restarting positions (with no attention mask) into a block-diagonal causal
mask, so packed examples never attend to one another."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from .chat_format import CHAT_TEMPLATE, EOS, IM_END, IM_START, PAD, SPECIAL_TOKENS

IGNORE = -100


# Qwen2's pre-tokenization (digits one by one, words with their leading space). Our models are Qwen2
# models, and transformers reloads a Qwen2 model folder's tokenizer as Qwen2Tokenizer, which imposes this
# pre-tokenizer and NFC: training with the same rules keeps the tokens identical before and after a reload.
QWEN2_SPLIT = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
               r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: Path | None = None):
    """Train a byte-level BPE tokenizer (no unknown tokens, any script) and wrap it for transformers."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, pad_token=PAD,
                                      additional_special_tokens=[IM_START, IM_END])
    wrapped.chat_template = CHAT_TEMPLATE
    wrapped.model_max_length = 1_000_000
    if out_dir is not None:
        wrapped.save_pretrained(str(out_dir))
    return wrapped


def ensure_chat_template(tokenizer) -> None:
    """Give a tokenizer without a template ours (ChatML), adding its markers as special tokens if missing."""
    if getattr(tokenizer, "chat_template", None):
        return
    missing = [t for t in (IM_START, IM_END) if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": missing})
    tokenizer.chat_template = CHAT_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]   # IGNORE where no loss is taken


def tokenize_document(tokenizer, text: str) -> Example:
    """Pre-training: the whole text is learned, followed by the end-of-text token."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return Example(ids, list(ids))


def tokenize_chat(tokenizer, messages: Sequence[dict]) -> Example:
    """Chat fine-tuning: loss on the assistant's tokens only (its content and end marker), never on the system
    prompt or the user's turns. Works with any template that renders a prefix of the conversation as a prefix
    of its tokens (ChatML and the common ones do)."""
    def render(upto: int, prompt: bool) -> list[int]:
        text = tokenizer.apply_chat_template(list(messages[:upto]), tokenize=False, add_generation_prompt=prompt)
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    full = render(len(messages), False)
    labels = [IGNORE] * len(full)
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start, end = len(render(i, True)), len(render(i + 1, False))
        if full[:end] != render(i + 1, False):
            raise ValueError("the chat template does not render a conversation's prefix as a token prefix")
        labels[start:end] = full[start:end]
    return Example(full, labels)


def pack(examples: Iterable[Example], seq_len: int, pad_id: int, split_long: bool = False) -> dict[str, torch.Tensor]:
    """Greedy packing into rows of ``seq_len``: ``input_ids``, ``labels``, ``position_ids`` (restarting per
    example) and ``real`` (real tokens per row). A longer example is cut into ``seq_len`` pieces (``split_long``: pre-training) or truncated (chat:
    the answer's start matters most). Returns tensors of shape (rows, seq_len)."""
    rows_ids, rows_labels, rows_pos, rows_real = [], [], [], []
    ids, labels, pos = [], [], []

    def flush():
        if not ids:
            return
        gap = seq_len - len(ids)
        rows_real.append(len(ids))
        rows_ids.append(ids + [pad_id] * gap)
        rows_labels.append(labels + [IGNORE] * gap)
        rows_pos.append(pos + list(range(gap)))
        ids.clear(), labels.clear(), pos.clear()

    for example in examples:
        pieces = ([(example.input_ids[i:i + seq_len], example.labels[i:i + seq_len])
                   for i in range(0, len(example.input_ids), seq_len)] if split_long
                  else [(example.input_ids[:seq_len], example.labels[:seq_len])])
        for piece_ids, piece_labels in pieces:
            if all(label == IGNORE for label in piece_labels) or len(piece_ids) < 2:
                continue
            if len(ids) + len(piece_ids) > seq_len:
                flush()
            ids.extend(piece_ids)
            labels.extend(piece_labels)
            pos.extend(range(len(piece_ids)))
    flush()
    if not rows_ids:
        return {"input_ids": torch.empty(0, seq_len, dtype=torch.long),
                "labels": torch.empty(0, seq_len, dtype=torch.long),
                "position_ids": torch.empty(0, seq_len, dtype=torch.long), "real": torch.empty(0, dtype=torch.long)}
    return {"input_ids": torch.tensor(rows_ids), "labels": torch.tensor(rows_labels),
            "position_ids": torch.tensor(rows_pos), "real": torch.tensor(rows_real)}


def packing_efficiency(packed: dict[str, torch.Tensor]) -> float:
    """Share of positions holding real tokens."""
    total = packed["input_ids"].numel()
    return float(packed["real"].sum()) / total if total else 0.0


def row_batches(packed: dict[str, torch.Tensor], batch_size: int, generator: torch.Generator | None,
                shuffle: bool = True):
    """Batches of packed rows, shuffled with the given generator (reproducible order)."""
    n = packed["input_ids"].shape[0]
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        yield {k: v[index] for k, v in packed.items()}
