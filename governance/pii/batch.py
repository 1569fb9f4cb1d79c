"""The fast path through the analyzer: many texts at once, with the same recognizers and the same results
as ``AnalyzerEngine.analyze`` text by text.

1. **Cache**: each distinct (text, language) is analyzed once (record columns and ticket texts repeat).
2. **Prefilter**: cheap tests decide which entity types a text can hold at all (no digits, no identifier,
   phone or card; no ``@``, no e-mail; no letter, no name or address). Texts that can hold nothing skip the
   analyzer; the others ask it only for what they can hold, so Presidio runs only those recognizers
   (phonenumbers and the name detector are the expensive ones). Nothing here guesses from capitalisation or
   phrasing: a lower-case name in a tweet is looked for like any other.
3. **Batched models**: the learned name detector tags each chunk of texts in one pass of its network
   (``prime``) and spaCy tokenizes the chunk once (``nlp.pipe``; with an English NER pipeline configured,
   only the components its NER needs). The analyzer then gets those results text by text.
4. **Processes**: with ``n_process`` > 1 and enough texts, chunks are analyzed in worker processes, each
   with its own analyzer (forked from this one where the platform allows, so no model is loaded twice).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from .engine import EngineConfig, detect_language, shared_analyzer
from .memo import AnalysisMemo

# Not personal data on their own: organisations, nationalities/religious or political groups, dates, and bare
# place names ("UK", "Shanghai"); a person's address is found as ADDRESS by the address recognizers.
NOT_PERSONAL = frozenset({"ORGANIZATION", "NRP", "DATE_TIME", "LOCATION"})

_HEX_COLONS = re.compile(r"[0-9A-Fa-f]{0,4}::?[0-9A-Fa-f]{1,4}[:\-][0-9A-Fa-f]{1,4}")
_AT = re.compile(r"[@＠]")
_WEB = re.compile(r"(?i)://|www\.|[a-z0-9]\.[a-z]{2,}")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# The fewest digits a text must hold (in all) to contain one of these. Phones: 8 digits at least (fewer are not
# reported, see engine.MIN_PHONE_DIGITS; 7 here for margin); cards 12 (Maestro); resident IDs 15 (legacy) or 18; …
MIN_DIGITS = {"PHONE_NUMBER": 7, "BANK_CARD": 12, "CN_RESIDENT_ID": 15, "TW_NATIONAL_ID": 8, "HK_ID": 6,
              "PASSPORT": 6, "IBAN_CODE": 6, "US_BANK_NUMBER": 8, "US_DRIVER_LICENSE": 3, "US_ITIN": 9,
              "US_PASSPORT": 8, "US_SSN": 9, "UK_NHS": 10, "MEDICAL_LICENSE": 6, "IP_ADDRESS": 4}
# Shapes of the rest: a long base58/bech32 token (crypto wallet), a UUID's first group.
SHAPES = {"CRYPTO": re.compile(r"\b(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[0-9a-z]{20,})"),
          "UUID": re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-")}
_DIGIT = re.compile(r"\d")
# A run of digits and phone separators. A phone has 7 to 15 digits (E.164); a longer run can hold one only
# where separators split it ("5143 1469 9494 0136"), so a text whose runs are all contiguous 16+ digit
# numbers (a card, a resident ID) or shorter than 7 digits holds no phone.
_NUMBER_RUN = re.compile(r"[+(（]?\d[\d\s\-–().（）]*\d")


def has_letter(text: str) -> bool:
    """A text with no letter holds no name and no written address."""
    return any(c.isalpha() for c in text)


def may_hold_phone(text: str) -> bool:
    for run in _NUMBER_RUN.finditer(text):
        n = len(_DIGIT.findall(run.group(0)))
        if n >= 7 and (n <= 15 or not run.group(0).isdigit()):
            return True
    return False


def possible_entities(text: str, language: str, supported: frozenset[str]) -> set[str]:
    """The entity types ``text`` can hold, by cheap tests; types without a test are always possible."""
    digits = len(text) - len(_DIGIT.sub("", text))
    cjk = _CJK.search(text) is not None
    possible = set()
    for entity in supported - NOT_PERSONAL:
        if entity == "IP_ADDRESS" or entity == "MAC_ADDRESS":
            ok = digits >= 4 or _HEX_COLONS.search(text) is not None
        elif entity == "PHONE_NUMBER":
            ok = digits >= MIN_DIGITS[entity] and may_hold_phone(text)
        elif entity in MIN_DIGITS:
            ok = digits >= MIN_DIGITS[entity]
        elif entity in SHAPES:
            ok = SHAPES[entity].search(text) is not None
        elif entity == "EMAIL_ADDRESS":
            ok = _AT.search(text) is not None
        elif entity == "URL":
            ok = _WEB.search(text) is not None
        elif entity in ("PERSON", "ADDRESS"):
            ok = cjk or has_letter(text)
        else:
            ok = True
        if ok:
            possible.add(entity)
    return possible


@dataclass(frozen=True)
class BatchOptions:
    batch_size: int = 256
    n_process: int = 1
    min_texts_per_process: int = 2000  # below this, starting workers costs more than it saves


class BatchAnalyzer:
    """``analyze(texts)`` → one list of Presidio ``RecognizerResult`` per text (personal types only)."""

    def __init__(self, config: EngineConfig | None = None, options: BatchOptions | None = None,
                 memo: AnalysisMemo | None = None) -> None:
        self.config = config or EngineConfig()
        self.options = options or BatchOptions()
        self.memo = memo  # findings remembered from earlier runs (memo.py); None: analyze everything
        self._analyzer = None

    @property
    def analyzer(self):
        """Presidio's analyzer with spaCy, loaded on first use: a run whose texts are all remembered never
        loads it."""
        if self._analyzer is None:
            self._analyzer = shared_analyzer(self.config, ner_only=True)
            self.supported = {lang: frozenset(self._analyzer.get_supported_entities(lang)) for lang in ("en", "zh")}
        return self._analyzer

    def analyze(self, texts: Sequence[str | None], language: str = "auto") -> list[list]:
        keys = [(t, detect_language(t) if language == "auto" else language) if t and t.strip() else None
                for t in texts]
        distinct = list(dict.fromkeys(k for k in keys if k is not None))
        results = {}
        if self.memo is not None:
            for key in distinct:
                found = self.memo.get(*key)
                if found is not None:
                    results[key] = found
        todo = [k for k in distinct if k not in results]
        for key, found in zip(todo, self._analyze_distinct(todo), strict=True):
            results[key] = found
            if self.memo is not None:
                self.memo.put(*key, found)
        return [results[k] if k is not None else [] for k in keys]

    def _analyze_distinct(self, items: list[tuple[str, str]]) -> list[list]:
        if not items:
            return []
        workers = min(self.options.n_process, len(items) // max(1, self.options.min_texts_per_process))
        if workers <= 1:
            return analyze_items(self, items)
        self.analyzer  # loaded before forking, so the workers share it  # noqa: B018
        size = -(-len(items) // (workers * 4))
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(self.config, self.options)) as pool:
            return [r for chunk in pool.map(_analyze_in_worker, chunks) for r in chunk]


def analyze_items(batch: BatchAnalyzer, items: list[tuple[str, str]]) -> list[list]:
    from .engine import learned_recognizers

    analyzer = batch.analyzer
    nlp_engine = analyzer.nlp_engine
    wanted = [possible_entities(text, lang, batch.supported[lang]) for text, lang in items]
    out: list[list] = [[] for _ in items]
    learned = {r.supported_language: r for r in learned_recognizers(analyzer)}
    for lang in ("en", "zh"):
        nlp = nlp_engine.get_nlp(lang)
        for with_ner in (True, False):
            indices = [i for i, (_, item_lang) in enumerate(items) if item_lang == lang and wanted[i]
                       and ("ner" in nlp.pipe_names and "PERSON" in wanted[i]) == with_ner]
            if not indices:
                continue
            for first in range(0, len(indices), batch.options.batch_size):
                chunk = indices[first:first + batch.options.batch_size]
                if lang in learned:  # one pass of the network for the chunk's texts that may hold a name
                    learned[lang].prime([items[i][0] for i in chunk if wanted[i] & {"PERSON", "ADDRESS"}])
                disabled = [] if with_ner or "ner" not in nlp.pipe_names else ["ner"]
                with nlp.select_pipes(disable=disabled):
                    processed = nlp_engine.process_batch([items[i][0] for i in chunk], lang,
                                                         batch_size=batch.options.batch_size)
                    for i, (text, artifacts) in zip(chunk, processed, strict=True):
                        found = analyzer.analyze(text, language=lang, entities=sorted(wanted[i]),
                                                 nlp_artifacts=artifacts)
                        out[i] = [r for r in found if r.entity_type not in NOT_PERSONAL]
    return out


_worker: BatchAnalyzer | None = None


def _init_worker(config: EngineConfig, options: BatchOptions) -> None:
    """A forked worker: torch (the name detector) on one thread — libgomp's pool is not fork-safe, and the
    workers are the parallelism."""
    global _worker
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    _worker = BatchAnalyzer(config, BatchOptions(options.batch_size, 1, options.min_texts_per_process))


def _analyze_in_worker(items: list[tuple[str, str]]) -> list[list]:
    return analyze_items(_worker, items)
