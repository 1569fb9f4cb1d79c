"""A small bilingual sequence tagger for personal names and addresses (the learned PII detector).

Why this model: no packaged encoder reads Chinese (the packaged MiniLM's vocabulary holds 244 CJK
characters) and a 6-layer transformer runs at under 100 short texts/s on this CPU, slower than the spaCy
pipeline it would replace. This tagger reads both languages in one pass, runs at thousands of texts/s and
fits in a few megabytes, so it is committed with the code and present on a fresh machine.

Units: a text is cut into units — a run of letters (a Latin, Cyrillic… word), one CJK character, a run of
digits, or one other symbol — on a half-width view of the text (same offsets), so Chinese is read
character by character and English word by word with one model.

Each unit is described by (1) its lower-cased form, digits folded to ``0`` (a learned embedding; rare forms
share ``<unk>``), (2) its characters with their case (a character CNN, max-pooled: suffixes, "-son", "Mc"),
(3) features: word shape (lower, Capitalised, UPPER, digits, CJK, punctuation), whether a space or line break
precedes it, and gazetteer bits — a known first name, a known surname (Faker's lists of many locales), a
Chinese surname character. Case is an explicit feature, not baked into the vocabulary, so the model learns
both "capitalised after 'Dear'" and, from lower-cased training copies, names in text typed without capitals.
A two-layer BiLSTM reads the units in context and a linear layer gives BIO tags over ``PER``, ``ADDR``,
``ORG``, ``LOC``.

Decoding (``decode``): a unit is part of a person (or address) when that label's probability reaches
``threshold`` — a recall-first rule, picked on dev splits; organisations and places are the most probable tag.
A span's score is the mean probability of its label over its units.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from .recipes.configs import TaggerConfig

ENTITY_LABELS = ("PER", "ADDR", "ORG", "LOC")
TAGS = ("O", *[f"{p}-{label}" for label in ENTITY_LABELS for p in ("B", "I")])
PAD, UNK = 0, 1
MAX_CHARS = 16          # characters per unit seen by the character CNN
CHAR_WIDTH = MAX_CHARS + 2  # padded width: every unit has a right edge and a padding position
MAX_UNITS = 200         # units per window; longer texts are tagged window by window (with overlap)
WINDOW_OVERLAP = 20

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_UNIT = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W\d_])+|\d+|[^\w\s]|_")
_IS_CJK = re.compile(rf"[{_CJK}]")
HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
SHAPES = ("lower", "title", "upper", "mixed", "digit", "cjk", "punct", "other")
N_FEATURES = len(SHAPES) + 3 + 4   # shape, (space before, newline before, first unit), gazetteer bits


def units(text: str) -> list[tuple[int, int]]:
    """(start, end) of every unit of ``text``."""
    return [m.span() for m in _UNIT.finditer(text.translate(HALFWIDTH))]


def shape(unit: str) -> str:
    if _IS_CJK.match(unit):
        return "cjk"
    if unit.isdigit():
        return "digit"
    if not unit[0].isalpha():
        return "punct"
    if unit.islower():
        return "lower"
    if unit.isupper():
        return "upper" if len(unit) > 1 else "title"
    if unit[0].isupper() and unit[1:].islower():
        return "title"
    if unit[0].isupper() or any(c.isupper() for c in unit):
        return "mixed"
    return "other"


def word_form(unit: str) -> str:
    return re.sub(r"\d", "0", unicodedata.normalize("NFKC", unit).lower())


@dataclass
class Gazetteer:
    first_names: frozenset[str] = frozenset()
    last_names: frozenset[str] = frozenset()
    cjk_surnames: frozenset[str] = frozenset()   # single characters; compound surnames by their first

    def bits(self, unit: str) -> tuple[float, float, float, float]:
        lowered = unit.lower()
        return (float(lowered in self.first_names), float(lowered in self.last_names),
                float(unit in self.cjk_surnames), float(len(unit) > 1 and unit[0].isupper() and unit[1:].islower()
                                                        and lowered in self.first_names
                                                        and lowered in self.last_names))

    def to_json(self) -> dict:
        return {"first_names": sorted(self.first_names), "last_names": sorted(self.last_names),
                "cjk_surnames": sorted(self.cjk_surnames)}

    @classmethod
    def from_json(cls, data: dict) -> Gazetteer:
        return cls(frozenset(data["first_names"]), frozenset(data["last_names"]), frozenset(data["cjk_surnames"]))


@dataclass
class Vocabulary:
    words: list[str] = field(default_factory=lambda: ["<pad>", "<unk>"])
    chars: list[str] = field(default_factory=lambda: ["<pad>", "<unk>"])

    def __post_init__(self) -> None:
        self._word_ids = {w: i for i, w in enumerate(self.words)}
        self._char_ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def build(cls, texts: Iterable[str], min_word: int = 2, max_words: int = 30000, min_char: int = 2,
              exclude: frozenset[str] = frozenset()) -> Vocabulary:
        """Forms seen ``min_word`` times, less ``exclude`` (forms that must not be stored in the model, such as
        the names in a user's own labelled data: the model then knows them only by their characters)."""
        words, chars = Counter(), Counter()
        for text in texts:
            folded = text.translate(HALFWIDTH)
            for start, end in units(text):
                unit = folded[start:end]
                words[word_form(unit)] += 1
                chars.update(unit)
        kept_words = [w for w, n in words.most_common(max_words + len(exclude)) if n >= min_word
                      and w not in exclude][:max_words]
        kept_chars = sorted(c for c, n in chars.items() if n >= min_char)
        return cls(["<pad>", "<unk>", *kept_words], ["<pad>", "<unk>", *kept_chars])

    def word_id(self, unit: str) -> int:
        return self._word_ids.get(word_form(unit), UNK)

    def char_ids(self, unit: str) -> list[int]:
        return [self._char_ids.get(c, UNK) for c in unit[:MAX_CHARS]]


class TaggerNetwork(nn.Module):
    def __init__(self, n_words: int, n_chars: int, config: TaggerConfig) -> None:
        super().__init__()
        self.words = nn.Embedding(n_words, config.word_dim, padding_idx=PAD)
        self.chars = nn.Embedding(n_chars, config.char_dim, padding_idx=PAD)
        self.char_cnn = nn.Conv1d(config.char_dim, config.char_filters, kernel_size=3, padding=1)
        self.features = nn.Linear(N_FEATURES, config.feature_dim)
        width = config.word_dim + config.char_filters + config.feature_dim
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(width, config.hidden, num_layers=config.layers, bidirectional=True, batch_first=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.out = nn.Linear(2 * config.hidden, len(TAGS))

    def forward(self, words: torch.Tensor, chars: torch.Tensor, features: torch.Tensor,
                lengths: torch.Tensor) -> torch.Tensor:
        batch, length, n_chars = chars.shape
        c = self.chars(chars.view(batch * length, n_chars)).transpose(1, 2)   # (B*L, char_dim, chars)
        c = torch.relu(self.char_cnn(c)).max(dim=2).values.view(batch, length, -1)
        x = torch.cat([self.words(words), c, torch.relu(self.features(features))], dim=-1)
        packed = nn.utils.rnn.pack_padded_sequence(self.dropout(x), lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        hidden, _ = self.lstm(packed)
        hidden, _ = nn.utils.rnn.pad_packed_sequence(hidden, batch_first=True, total_length=length)
        return self.out(self.dropout(hidden))


@dataclass
class Encoded:
    """One window of a text, as model inputs, with the character offsets of its units."""
    offsets: list[tuple[int, int]]
    words: list[int]
    chars: list[list[int]]
    features: list[list[float]]
    tags: list[int] | None = None


def encode(text: str, vocab: Vocabulary, gazetteer: Gazetteer, spans: Sequence[tuple[int, int, str]] = (),
           with_tags: bool = False) -> list[Encoded]:
    """The windows of ``text`` (one unless it is longer than MAX_UNITS units)."""
    folded = text.translate(HALFWIDTH)
    offsets = units(text)
    if not offsets:
        return []
    words, chars, features = [], [], []
    for i, (start, end) in enumerate(offsets):
        unit = folded[start:end]
        words.append(vocab.word_id(unit))
        chars.append(vocab.char_ids(unit) or [UNK])
        gap = folded[offsets[i - 1][1]:start] if i else ""
        one_hot = [0.0] * len(SHAPES)
        one_hot[SHAPES.index(shape(unit))] = 1.0
        features.append([*one_hot, float(bool(gap)), float("\n" in gap), float(i == 0), *gazetteer.bits(unit)])
    tags = unit_tags(offsets, spans) if with_tags else None
    windows = []
    step = MAX_UNITS - WINDOW_OVERLAP
    for first in range(0, max(1, len(offsets) - WINDOW_OVERLAP), step):
        last = min(len(offsets), first + MAX_UNITS)
        windows.append(Encoded(offsets[first:last], words[first:last], chars[first:last], features[first:last],
                               tags[first:last] if tags is not None else None))
        if last == len(offsets):
            break
    return windows


def span_forms(text: str, spans: Sequence[tuple[int, int, str]], labels: Sequence[str]) -> set[str]:
    """The word forms of the units inside ``spans`` of ``labels`` (what ``Vocabulary.build`` may exclude):
    words of two or more characters — a single CJK character or initial identifies no one, and dropping
    common characters would blind the model to ordinary Chinese."""
    folded = text.translate(HALFWIDTH)
    return {word_form(folded[s:e]) for s, e in units(text) if e - s > 1
            for start, end, label in spans if label in labels and s < end and e > start}


def unit_tags(offsets: list[tuple[int, int]], spans: Sequence[tuple[int, int, str]]) -> list[int]:
    tags = [0] * len(offsets)
    for span_start, span_end, label in spans:
        if label not in ENTITY_LABELS:
            continue
        inside = [i for i, (s, e) in enumerate(offsets) if s < span_end and e > span_start]
        for n, i in enumerate(inside):
            tags[i] = TAGS.index(f"{'B' if n == 0 else 'I'}-{label}")
    return tags


def collate(windows: Sequence[Encoded]) -> dict[str, torch.Tensor]:
    length = max(len(w.words) for w in windows)
    # Characters padded to one width for every batch: the character CNN's max-pool then sees the same positions
    # (a word's own, its right edge, pure padding) whatever else is in the batch, so a text's tags do not depend
    # on which texts it is batched with (a shard of a table, a whole table, a single text).
    n_chars = CHAR_WIDTH
    words = torch.zeros(len(windows), length, dtype=torch.long)
    chars = torch.zeros(len(windows), length, n_chars, dtype=torch.long)
    features = torch.zeros(len(windows), length, N_FEATURES)
    tags = torch.full((len(windows), length), -100, dtype=torch.long)
    for b, w in enumerate(windows):
        n = len(w.words)
        words[b, :n] = torch.tensor(w.words)
        for i, c in enumerate(w.chars):
            chars[b, i, :len(c)] = torch.tensor(c)
        features[b, :n] = torch.tensor(w.features)
        if w.tags is not None:
            tags[b, :n] = torch.tensor(w.tags)
    lengths = torch.tensor([len(w.words) for w in windows])
    return {"words": words, "chars": chars, "features": features, "lengths": lengths, "tags": tags}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    score: float


PERSONAL_LABELS = ("PER", "ADDR")
OTHER_THRESHOLD = 0.5  # organisations and places: the most probable tag, when it is not O


def decode(offsets: list[tuple[int, int]], probabilities: torch.Tensor, threshold: float) -> list[Span]:
    """Spans from per-unit tag probabilities. A unit is a person (or address) when the probability of that
    label (its B- and I- tags together) reaches ``threshold``, whatever else is more probable: a name the
    model half takes for a place is still redacted. Otherwise a unit whose most probable tag is an
    organisation or place is one (not personal; it keeps such words out of person spans). A span is a run of
    units of one label; a B- tag more probable than the I- tag starts a new one."""
    by_label = {label: probabilities[:, TAGS.index(f"B-{label}")] + probabilities[:, TAGS.index(f"I-{label}")]
                for label in ENTITY_LABELS}
    best = probabilities.argmax(dim=1)
    spans, current = [], None
    for i, (start, end) in enumerate(offsets):
        personal = [label for label in PERSONAL_LABELS if float(by_label[label][i]) >= threshold]
        if personal:
            label = max(personal, key=lambda lab: float(by_label[lab][i]))
        elif int(best[i]) != 0 and float(1 - probabilities[i, 0]) >= OTHER_THRESHOLD:
            label = TAGS[int(best[i])].split("-")[1]
        else:
            if current:
                spans.append(current)
            current = None
            continue
        p = float(by_label[label][i])
        begins = float(probabilities[i, TAGS.index(f"B-{label}")]) > float(probabilities[i, TAGS.index(f"I-{label}")])
        if current and current[2] == label and not begins:
            current = (current[0], end, label, current[3] + [p])
        else:
            if current:
                spans.append(current)
            current = (start, end, label, [p])
    if current:
        spans.append(current)
    return [Span(s, e, label, sum(ps) / len(ps)) for s, e, label, ps in spans]


class TokenTagger:
    """A trained tagger: ``predict(texts)`` → spans per text. Loads from a folder written by ``save``."""

    WEIGHTS, CONFIG = "model.safetensors", "tagger.json"

    def __init__(self, network: TaggerNetwork, vocab: Vocabulary, gazetteer: Gazetteer, config: TaggerConfig,
                 threshold: float = 0.5, meta: dict | None = None, thresholds: dict[str, float] | None = None) -> None:
        self.network, self.vocab, self.gazetteer, self.config = network, vocab, gazetteer, config
        self.threshold = threshold
        self.thresholds = dict(thresholds or {})  # per language (en, zh); ``threshold`` for any other
        self.meta = meta or {}
        self.device = next(network.parameters()).device

    @classmethod
    def load(cls, folder: Path | str, device: str = "cpu") -> TokenTagger:
        from safetensors.torch import load_file

        folder = Path(folder)
        if not (folder / cls.CONFIG).exists():
            raise FileNotFoundError(f"{folder}: not a PII detector folder (no {cls.CONFIG})")
        spec = json.loads((folder / cls.CONFIG).read_text(encoding="utf-8"))
        vocab = Vocabulary(spec["vocabulary"]["words"], spec["vocabulary"]["chars"])
        gazetteer = Gazetteer.from_json(spec["gazetteer"])
        config = TaggerConfig(**spec["network"])
        network = TaggerNetwork(len(vocab.words), len(vocab.chars), config)
        state = {k: v.float() for k, v in load_file(str(folder / cls.WEIGHTS)).items()}
        network.load_state_dict(state)
        network.eval().to(device)
        return cls(network, vocab, gazetteer, config, spec.get("threshold", 0.5), spec.get("meta", {}),
                   spec.get("thresholds"))

    def save(self, folder: Path | str) -> None:
        """Weights in float16 (half the size; the model computes in float32 after loading)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in self.network.state_dict().items()}
        save_file(state, str(folder / self.WEIGHTS))
        spec = {"tags": list(TAGS), "network": asdict(self.config), "threshold": self.threshold,
                "thresholds": self.thresholds,
                "vocabulary": {"words": self.vocab.words, "chars": self.vocab.chars},
                "gazetteer": self.gazetteer.to_json(), "meta": self.meta}
        (folder / self.CONFIG).write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")

    @torch.inference_mode()
    def probabilities(self, texts: Sequence[str], batch_size: int = 64) -> list[list[tuple[Encoded, torch.Tensor]]]:
        """Per text, its windows with per-unit tag probabilities."""
        self.network.eval()
        windows = [(t, w) for t, text in enumerate(texts) for w in encode(text, self.vocab, self.gazetteer)]
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1].words))
        out: list[list] = [[] for _ in texts]
        for first in range(0, len(order), batch_size):
            chunk = [windows[i] for i in order[first:first + batch_size]]
            batch = collate([w for _, w in chunk])
            logits = self.network(batch["words"].to(self.device), batch["chars"].to(self.device),
                                  batch["features"].to(self.device), batch["lengths"])
            probs = torch.softmax(logits.float(), dim=-1).cpu()
            for row, (t, window) in enumerate(chunk):
                out[t].append((window, probs[row, :len(window.words)]))
        for per_text in out:
            per_text.sort(key=lambda item: item[0].offsets[0])
        return out

    def threshold_for(self, language: str | None) -> float:
        return self.thresholds.get(language, self.threshold) if language else self.threshold

    def predict(self, texts: Sequence[str], threshold: float | None = None, batch_size: int = 64,
                language: str | None = None) -> list[list[Span]]:
        """Spans per text, at ``threshold`` or else the one saved for ``language``."""
        threshold = self.threshold_for(language) if threshold is None else threshold
        results = []
        for windows in self.probabilities(texts, batch_size):
            spans: list[Span] = []
            for window, probs in windows:
                for span in decode(window.offsets, probs, threshold):
                    if not spans or span.start >= spans[-1].end:  # a window's overlap is decided once
                        spans.append(span)
            results.append(spans)
        return results
