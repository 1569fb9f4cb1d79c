"""The learned PII detector inside Presidio: a recognizer of ours that reports the tagger's person names
(``PERSON``) and postal addresses (``ADDRESS``), in English and Chinese, so Presidio's pattern recognizers,
context enhancement, conflict resolution, our operators, the ledger and pseudonyms work as before.

The detector (models/token_tagger.py, trained by models/recipes/pii_detector.py) ships in
``governance/pii/detector/`` and loads offline from there, or from a folder named by the setting
``pii_detector`` (a model retrained on the user's own labels with ``waterworks train-pii-detector``).

Organisations and bare place names the tagger also recognises are reported as ``ORGANIZATION`` and
``LOCATION`` — not personal (the batch analyzer drops them), but Presidio's conflict resolution sees them,
so a company name is not also redacted as a person by a weaker finding.

Scores: the tagger decides (at the threshold saved for the recognizer's language, picked on dev splits, or
the ``detector_threshold`` setting); a span it reports scores
``0.5 + 0.5 × p`` (p: the mean entity probability of its units), above the engine's threshold and ordered
by confidence for conflict resolution and the ledger's score bands.

Batching: ``prime(texts)`` tags many texts in one pass of the network and keeps the results for the
``analyze`` calls Presidio makes text by text (the batch analyzer primes each batch); an unprimed text is
tagged alone.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .lexicon import SURNAMES
from .operators import blank_placeholders
from .presidio import EntityRecognizer, RecognizerResult

DEFAULT_DETECTOR = Path(__file__).with_name("detector")
ENTITY_OF = {"PER": "PERSON", "ADDR": "ADDRESS", "ORG": "ORGANIZATION", "LOC": "LOCATION"}
PRIMED_LIMIT = 20000  # texts kept between prime() and analyze()


@lru_cache(maxsize=4)
def load_detector(path: str):
    """The tagger in ``path``, one per process and path."""
    from waterworks.models.token_tagger import TokenTagger

    return TokenTagger.load(path)


def detector_path(configured: str | None) -> Path:
    path = Path(configured) if configured else DEFAULT_DETECTOR
    if not (path / "tagger.json").exists():
        raise FileNotFoundError(f"PII detector not found at {path} (no tagger.json): set pii_detector to a folder "
                                "written by `waterworks train-pii-detector`, or reinstall the package")
    return path


class LearnedNameRecognizer(EntityRecognizer):
    """Person names and postal addresses by the learned tagger (see the module docstring)."""

    def __init__(self, path: str | Path, supported_language: str = "en", threshold: float | None = None) -> None:
        self.path = str(path)
        self.threshold = threshold
        self._primed: dict[str, list] = {}
        super().__init__(supported_entities=list(ENTITY_OF.values()), name="LearnedNameRecognizer",
                         supported_language=supported_language, version="1")

    def load(self) -> None:  # Presidio calls this at construction; the tagger loads on first use
        pass

    @property
    def tagger(self):
        return load_detector(self.path)

    def _predict(self, texts: list[str]) -> list:
        """Placeholders of an earlier redaction (``<PERSON>``) are blanked first, so redacted text scans clean."""
        return self.tagger.predict([blank_placeholders(t) for t in texts], threshold=self.threshold,
                                   language=self.supported_language)

    def prime(self, texts: list[str]) -> None:
        """Tag ``texts`` in batches now; later ``analyze`` calls on them take the results."""
        if len(self._primed) > PRIMED_LIMIT:
            self._primed.clear()
        todo = [t for t in dict.fromkeys(texts) if t not in self._primed]
        if todo:
            for text, spans in zip(todo, self._predict(todo), strict=True):
                self._primed[text] = spans

    def spans(self, text: str) -> list:
        found = self._primed.pop(text, None)
        return found if found is not None else self._predict([text])[0]

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        wanted = set(entities or ENTITY_OF.values())
        results = []
        for span in self.spans(text):
            entity = ENTITY_OF[span.label]
            if entity not in wanted:
                continue
            start, end = trimmed(text, span.start, span.end)
            if start < end and plausible(entity, text[start:end]):
                results.append(RecognizerResult(entity, start, end, round(0.5 + 0.5 * span.score, 4),
                                                analysis_explanation=None,
                                                recognition_metadata={
                                                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results


def plausible(entity: str, value: str) -> bool:
    """A name has at least two letters, or is one Chinese surname character (马先生, 李总: a person referred
    to by surname; a lone 天 is not one); an address a letter and two letters or digits (a bare number is a
    number)."""
    if entity == "PERSON":
        if len(value) == 1:
            return value in SURNAMES
        return sum(c.isalpha() for c in value) >= 2
    if entity == "ADDRESS":
        return sum(c.isalnum() for c in value) >= 2 and any(c.isalpha() for c in value)
    return True


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """A span without the punctuation a unit-level tagger may include at its edges (a closing comma, quotes
    and brackets of the JSON or mail header around a name)."""
    while end > start and text[end - 1] in ",，;；:：、\"'“”「」()（）<>[]{}":
        end -= 1
    while start < end and text[start] in "\"'“”「」()（）<>[]{}":
        start += 1
    return start, end
