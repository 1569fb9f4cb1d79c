"""PII detection: checksums, Presidio recognizers for China, Taiwan and Hong Kong, and the engine."""
