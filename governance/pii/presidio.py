"""Presidio (analyzer and anonymizer), imported once for the whole package without the analyzer's optional
Transformers NLP engine.

Every module here imports Presidio through this one, so the guard below applies whichever is imported first.
"""

import os
import sys

# Presidio's e-mail and URL recognizers use tldextract, which otherwise fetches the Public Suffix List.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")


def _import_presidio_analyzer():
    """Import presidio_analyzer without its optional Transformers NLP engine.

    presidio_analyzer 2.2 imports ``transformers.pipeline`` at import time for that engine (which we do not
    use), and that pulls in all of transformers: about 6 of the 10 seconds a ``waterworks redact`` or ``scan``
    spends starting up here. During this one import ``transformers`` is hidden (Presidio handles its absence:
    the engine reports itself unavailable); afterwards the entry is removed, so a later ``import transformers``
    in the same process works as usual. If transformers is already loaded, nothing is hidden."""
    if "presidio_analyzer" in sys.modules or "transformers" in sys.modules:
        import presidio_analyzer
        return presidio_analyzer
    sys.modules["transformers"] = None  # makes "from transformers import …" raise ImportError
    try:
        import presidio_analyzer
    finally:
        del sys.modules["transformers"]
    return presidio_analyzer


_import_presidio_analyzer()

from presidio_analyzer import (  # noqa: E402
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer  # noqa: E402
from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: E402
from presidio_analyzer.predefined_recognizers import PhoneRecognizer, SpacyRecognizer  # noqa: E402
from presidio_anonymizer import AnonymizerEngine  # noqa: E402  (it imports presidio_analyzer: after the guard)
from presidio_anonymizer.entities import OperatorConfig  # noqa: E402

__all__ = ["AnalyzerEngine", "AnonymizerEngine", "EntityRecognizer", "LemmaContextAwareEnhancer", "NlpEngineProvider", "OperatorConfig", "Pattern",
           "PatternRecognizer", "PhoneRecognizer", "RecognizerRegistry", "RecognizerResult", "SpacyRecognizer"]
