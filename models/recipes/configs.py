"""Every recipe's settings, in one torch-free module: the training config (training.yaml) is validated against
these dataclasses when the code location loads, without importing torch. ``RECIPES`` maps a recipe's name (its
module in models/recipes/ and its section in a training preset) to its config class.

``RecipeConfig`` holds what every training loop takes; a recipe's class adds its own fields and overrides the
defaults that differ."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecipeConfig:
    batch_size: int = 8
    epochs: float = 1.0
    max_steps: int | None = None       # None: as many as the epochs make
    lr: float | None = 2e-3
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"               # auto: CUDA with bf16 when present, else CPU


@dataclass(frozen=True)
class PretrainConfig(RecipeConfig):
    """``pretrain``: a causal LM from scratch (byte-level BPE tokenizer trained on the corpus)."""
    lr: float = 3e-3
    weight_decay: float = 0.1
    size: str = "tiny"
    vocab_size: int = 4000
    seq_len: int = 256
    grad_accum: int = 1
    gradient_checkpointing: bool = False
    generation_prompts: tuple[str, ...] = ("The", "客户")


@dataclass(frozen=True)
class LoraSftConfig(RecipeConfig):
    """``lora_sft``: LoRA on chat examples, loss on assistant tokens."""
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | tuple[str, ...] = "all-linear"
    seq_len: int = 512
    grad_accum: int = 1
    gradient_checkpointing: bool = False


LORA_TARGETS = ("query", "key", "value", "dense")


@dataclass(frozen=True)
class ClassifyConfig(RecipeConfig):
    """``lora_classify``: an encoder fine-tuned to classify texts, with LoRA or fully (``method``)."""
    batch_size: int = 32
    epochs: float = 4.0
    lr: float | None = None              # encoder (full) or adapter (lora); None: 5e-5 full, 1e-3 lora
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    method: str = "lora"                 # lora | full
    base_path: str | None = None         # None: the packaged all-MiniLM-L6-v2
    max_length: int = 64
    head_lr: float = 2e-3
    label_smoothing: float = 0.0
    dropout: float = 0.1
    linear_probe_init: bool = True
    probe_c: float = 10.0
    rank: int = 16
    alpha: int = 32
    lora_dropout: float = 0.1
    target_modules: tuple[str, ...] = LORA_TARGETS

    def encoder_lr(self) -> float:
        return self.lr if self.lr is not None else (5e-5 if self.method == "full" else 1e-3)


@dataclass(frozen=True)
class TaggerConfig:
    """The PII detector's network (models/token_tagger.py)."""
    word_dim: int = 64
    char_dim: int = 24
    char_filters: int = 64
    feature_dim: int = 16
    hidden: int = 160
    layers: int = 2
    dropout: float = 0.3


@dataclass(frozen=True)
class DetectorConfig(RecipeConfig):
    """``pii_detector``: the learned name and address detector. The data fields say how much of the labelled
    corpora and synthetic text governance/pii/detector_training.py assembles (None: all of it)."""
    batch_size: int = 32
    epochs: float = 4.0
    warmup_ratio: float = 0.03
    seed: int = 13
    word_dropout: float = 0.12
    gazetteer_dropout: float = 0.35
    max_words: int = 30000
    network: TaggerConfig = TaggerConfig()
    corpus_examples: int | None = None     # labelled corpus sentences used (a seeded sample), before augmentation
    synthetic_per_language: int = 8000     # Faker names and addresses in carrier sentences, per language
    negatives_per_language: int = 2000     # person-free sentences labelled empty, per language
    cells: int = 6000                      # lone table cells
    dev_per_split: int | None = None       # dev texts per dev split the thresholds are picked on (a seeded sample)


RECIPES: dict[str, type[RecipeConfig]] = {"pretrain": PretrainConfig, "lora_sft": LoraSftConfig,
                                          "lora_classify": ClassifyConfig, "pii_detector": DetectorConfig}
