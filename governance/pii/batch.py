"""The fast path through the analyzer: many texts at once, with the same recognizers and the same results
as ``AnalyzerEngine.analyze`` text by text.

1. **Cache**: each distinct (text, language) is analyzed once (record columns and ticket texts repeat).
2. **Prefilter**: cheap regular expressions decide which entity types a text can hold at all (no digits, no
   identifier, phone or card; no ``@``, no e-mail; no capitalised word outside a sentence-opening function word,
   no English NER). Texts that can hold nothing skip the analyzer; the others ask it only for what they can
   hold, so Presidio runs only those recognizers (phonenumbers and the NER are the expensive ones).
3. **Batched NLP**: spaCy runs once per batch (``nlp.pipe``) with only the components the NER needs; texts
   that need no NER are only tokenized (for context words). The analyzer then gets the NLP results.
4. **Processes**: with ``n_process`` > 1 and enough texts, chunks are analyzed in worker processes, each
   with its own analyzer (forked from this one where the platform allows, so no model is loaded twice).
"""

from __future__ import annotations

import multiprocessing
import os
import re
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
_CJK_ADDRESS = re.compile(r"[省市区區县縣路街道巷弄号號樓楼段]")
_CAPITALISED = re.compile(r"\b[A-Z][a-z][A-Za-z'\-]*")  # a name has a lower-case letter (not UK, EUR)
# Capitalised words that are (almost) never a name: texts whose capitalised words are all of these need no
# English NER. Words that are also first names (Will, May, Bill, Mark, Grace…) are deliberately not here.
_OPENERS = frozenset("""
A About After Again All Also Am An And Any Are As At Be Because Been Before Being But By Can Cannot Could
Dear Did Do Does Doing Done Each Even For From Get Give Go Had Has Have Having He Hello Her Here Hers Hi His
How However If In Into Is It Its Just Let Like Many Me More Most Much Must My No Not Now Of Ok Okay On Once
One Only Or Our Please Really She Should Since So Some Still Than Thank Thanks That The Their Them Then
There These They This Those Though To Too Today Tomorrow Up Us Very Was We Were What When Where Whether
Which While Who Why With Would Yes Yesterday Yet You Your Yours PIN ATM OK Sorry Need Want Is Isn't Can't
Don't Didn't Doesn't Won't I'm I've I'd I'll It's What's There's Where's Hey Good Morning Afternoon Evening
""".split())  # noqa: SIM905

# The fewest digits a text must hold (in all) to contain one of these. Phones: 8 digits at least (fewer are not
# reported, see engine.MIN_PHONE_DIGITS; 7 here for margin); cards 13; resident IDs 15 (legacy) or 18; …
MIN_DIGITS = {"PHONE_NUMBER": 7, "BANK_CARD": 13, "CN_RESIDENT_ID": 15, "TW_NATIONAL_ID": 8, "HK_ID": 6,
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


def needs_english_ner(text: str) -> bool:
    return any(word not in _OPENERS for word in _CAPITALISED.findall(text))


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
        elif entity == "ADDRESS":
            ok = digits >= 5 or (cjk and _CJK_ADDRESS.search(text) is not None)  # a ZIP code, or 省市路号…
        elif entity == "PERSON":
            ok = cjk or (language == "en" and needs_english_ner(text))
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
    analyzer = batch.analyzer
    nlp_engine = analyzer.nlp_engine
    wanted = [possible_entities(text, lang, batch.supported[lang]) for text, lang in items]
    out: list[list] = [[] for _ in items]
    for lang in ("en", "zh"):
        for with_ner in (True, False):
            indices = [i for i, (text, item_lang) in enumerate(items) if item_lang == lang and wanted[i]
                       and (lang == "en" and "PERSON" in wanted[i] and needs_english_ner(text)) == with_ner]
            if not indices:
                continue
            nlp = nlp_engine.get_nlp(lang)
            disabled = [] if with_ner or "ner" not in nlp.pipe_names else ["ner"]
            with nlp.select_pipes(disable=disabled):
                processed = nlp_engine.process_batch([items[i][0] for i in indices], lang,
                                                     batch_size=batch.options.batch_size)
                for i, (text, artifacts) in zip(indices, processed, strict=True):
                    found = analyzer.analyze(text, language=lang, entities=sorted(wanted[i]),
                                             nlp_artifacts=artifacts)
                    out[i] = [r for r in found if r.entity_type not in NOT_PERSONAL]
    return out


_worker: BatchAnalyzer | None = None


def _init_worker(config: EngineConfig, options: BatchOptions) -> None:
    global _worker
    _worker = BatchAnalyzer(config, BatchOptions(options.batch_size, 1, options.min_texts_per_process))


def _analyze_in_worker(items: list[tuple[str, str]]) -> list[list]:
    return analyze_items(_worker, items)
