"""Evaluation shared by the recipes: perplexity on held-out packed rows, greedy generations, accuracy and
macro-F1, and the canary exposure test of "The Secret Sharer" (Carlini et al., USENIX Security 2019).

Exposure of a canary s[r] among the randomness space R is log2 |R| − log2 rank(s[r]), the rank being its
place when every candidate is ordered by the model's log-perplexity. |R| is far too large to enumerate (10^10
for a phone number), so the rank is estimated, as in the paper, from a sample of candidates of the same shape:
exposure ≈ log2 (n + 1) − log2 rank among the canary and n sampled candidates. A model that has not memorised
the canary ranks it uniformly (expected exposure ≈ 1 bit); the largest value this estimate can give is
log2 (n + 1) (≈ 10 bits with n = 999), which signals extraction."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .runtime import Runtime


@torch.no_grad()
def perplexity(model, packed: dict[str, torch.Tensor], runtime: Runtime, batch_size: int = 16) -> dict[str, float]:
    """Token-level perplexity over the labelled positions of packed rows."""
    model.eval()
    total_nll, total_tokens = 0.0, 0
    for start in range(0, packed["input_ids"].shape[0], batch_size):
        batch = {k: v[start:start + batch_size].to(runtime.device) for k, v in packed.items()}
        with runtime.autocast():
            logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits
        labels = batch["labels"][:, 1:]
        logits = logits[:, :-1].float()
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                ignore_index=-100, reduction="sum")
        total_nll += float(nll)
        total_tokens += int((labels != -100).sum())
    mean = total_nll / max(total_tokens, 1)
    return {"eval_loss": mean, "perplexity": math.exp(min(mean, 50.0)), "eval_tokens": total_tokens}


@torch.no_grad()
def generate(model, tokenizer, prompts: Sequence[str | list[dict]], runtime: Runtime,
             max_new_tokens: int = 40) -> list[str]:
    """Greedy continuations; a prompt given as messages is rendered with the chat template."""
    model.eval()
    outputs = []
    for prompt in prompts:
        text = (tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
                if isinstance(prompt, list) else prompt)
        ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"].to(runtime.device)
        stop = [t for t in {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")}
                if isinstance(t, int) and t >= 0]
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                             do_sample=False, eos_token_id=stop or None, pad_token_id=tokenizer.pad_token_id)
        outputs.append(tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip())
    return outputs


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0))}


@torch.no_grad()
def sequence_log_perplexity(model, tokenizer, texts: Sequence[str], runtime: Runtime, batch_size: int = 64,
                            score_from: Sequence[int] | None = None) -> list[float]:
    """Total negative log-likelihood (nats) of each text's tokens from index ``score_from[i]`` on (the secret
    part), given what precedes them."""
    model.eval()
    encoded = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    starts = list(score_from) if score_from is not None else [1] * len(texts)
    scores = []
    for begin in range(0, len(encoded), batch_size):
        chunk = encoded[begin:begin + batch_size]
        width = max(len(ids) for ids in chunk)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids in chunk], device=runtime.device)
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in chunk], device=runtime.device)
        with runtime.autocast():
            logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
        for row, tokens in enumerate(chunk):
            start = max(1, starts[begin + row])
            scores.append(-float(logp[row, start - 1:len(tokens) - 1].sum()))
    return scores


def shaped_like(secret: str, rng: random.Random) -> str:
    """A random candidate of the secret's shape: every digit replaced by a random digit, every ASCII letter by a
    random letter of the same case, everything else kept. The first character is kept too where it is a digit
    that fixes the format (a mobile number starts with 1)."""
    out = []
    for i, ch in enumerate(secret):
        if ch.isdigit() and i > 0:
            out.append(str(rng.randrange(10)))
        elif ch.isascii() and ch.isalpha():
            letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            pick = rng.choice(letters)
            out.append(pick if ch.isupper() else pick.lower())
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class CanaryExposure:
    canary_id: str
    repeats: int
    exposure: float          # bits
    rank: int                # 1 = the model prefers the real secret over every candidate
    candidates: int
    max_exposure: float      # log2(candidates + 1)

    def as_dict(self) -> dict:
        return {"canary": self.canary_id, "repeats": self.repeats, "exposure_bits": round(self.exposure, 3),
                "rank": self.rank, "candidates": self.candidates, "max_exposure_bits": round(self.max_exposure, 3)}


def canary_exposure(model, tokenizer, canary_id: str, prefix: str, secret: str, repeats: int, runtime: Runtime,
                    candidates: int = 999, seed: int = 0) -> CanaryExposure:
    """Rank the real secret among ``candidates`` random secrets of its shape, all after the same prefix."""
    rng = random.Random(f"{seed}:{canary_id}")
    pool: set[str] = set()
    while len(pool) < candidates:
        candidate = shaped_like(secret, rng)
        if candidate != secret:
            pool.add(candidate)
    options = [secret, *sorted(pool)]
    prefix_tokens = len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
    scores = sequence_log_perplexity(model, tokenizer, [prefix + option for option in options], runtime,
                                     score_from=[prefix_tokens] * len(options))
    real = scores[0]
    rank = 1 + sum(1 for s in scores[1:] if s < real) + sum(0.5 for s in scores[1:] if s == real)
    rank = max(1, int(round(rank)))
    total = len(options)
    return CanaryExposure(canary_id, repeats, math.log2(total) - math.log2(rank), rank, candidates,
                          math.log2(total))
