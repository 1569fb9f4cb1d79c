"""The residual check's eyes for names and addresses: what redaction left behind that looks like a person.

Two detectors, neither of them the redaction's own decision:
- **a second NER model** for English — spaCy's ``en_core_web_sm`` (trained on OntoNotes, another corpus, another
  architecture than ours): its PERSON entities with a lower-case letter and no digit;
- **the learned detector at a lower threshold** (``threshold``, below the one redaction used) for both
  languages: the names redaction was unsure of and let through.

A text's placeholders (``<PERSON>``, ``<PHONE_NUMBER>``…) are blanked first, and a name the pseudonym
operator wrote (operators.has_surrogate_name_shape; only when ``pseudonyms`` — a real name can have that shape) is not a
finding. Results are entity types per text, never values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from . import SPACY_ENGLISH_NER
from .engine import detect_language
from .operators import blank_placeholders, has_surrogate_name_shape


@dataclass(frozen=True)
class NameScanConfig:
    threshold: float = 0.2              # the learned detector's threshold here (redaction's is higher)
    english_ner: str | None = SPACY_ENGLISH_NER  # a spaCy pipeline with NER; None: the learned detector only
    detector: str | None = None         # the learned detector's folder; None: the shipped one
    pseudonyms: bool = False            # the text was pseudonymized: names of the surrogates' shape are ours


@lru_cache(maxsize=2)
def _spacy(model: str):
    import spacy

    nlp = spacy.load(model)
    keep = {"ner", *(name for name, c in nlp.pipeline if "ner" in getattr(c, "listening_components", ()))}
    for name in list(nlp.pipe_names):
        if name not in keep:
            nlp.disable_pipe(name)
    return nlp


def _plausible(value: str) -> bool:
    return any(c.islower() for c in value) and not any(c.isdigit() for c in value)


def residual_names(texts: Sequence[str], config: NameScanConfig = NameScanConfig()) -> list[list[str]]:
    """Per text, the types (PERSON, ADDRESS) of the residual names and addresses found in it."""
    from .learned import detector_path, load_detector, plausible, trimmed

    blanked = [blank_placeholders(t or "") for t in texts]
    found: list[list[str]] = [[] for _ in texts]
    todo = [i for i, t in enumerate(blanked) if any(c.isalpha() for c in t)]
    if not todo:
        return found
    tagger = load_detector(str(detector_path(config.detector)))
    for i, spans in zip(todo, tagger.predict([blanked[i] for i in todo], threshold=config.threshold), strict=True):
        for span in spans:
            start, end = trimmed(blanked[i], span.start, span.end)
            value = blanked[i][start:end]
            entity = {"PER": "PERSON", "ADDR": "ADDRESS"}.get(span.label)
            if entity is None or not plausible(entity, value):
                continue
            if entity == "PERSON" and config.pseudonyms and has_surrogate_name_shape(value):
                continue
            found[i].append(entity)
    if config.english_ner:
        english = [i for i in todo if detect_language(blanked[i]) == "en" and "PERSON" not in found[i]]
        nlp = _spacy(config.english_ner)
        for i, doc in zip(english, nlp.pipe([blanked[i] for i in english], batch_size=256), strict=True):
            if any(e.label_ == "PERSON" and _plausible(e.text)
                   and not (config.pseudonyms and has_surrogate_name_shape(e.text))
                   for e in doc.ents):
                found[i].append("PERSON")
    return found
