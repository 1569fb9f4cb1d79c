"""Language identification with lingua (offline models shipped in its wheel, Rust, parallel), and the
Chinese script split: zh-Hans / zh-Hant, decided by which OpenCC direction would change the text more."""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from .normalize import opencc_converter

SAMPLE_CHARS = 1000  # identification reads the start of a document: enough for a confident call, bounded cost
UNDETERMINED = "und"


@lru_cache(maxsize=4)
def _detector(candidates: tuple[str, ...]):
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [IsoCode639_1.from_str(c) for c in candidates]
    if len(codes) < 2:
        raise ValueError("language.candidates needs at least two languages")
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def chinese_script(text: str) -> str:
    """'zh-Hant' when converting to Simplified changes more characters than converting to Traditional."""
    to_simplified = opencc_converter("t2s").convert(text)
    to_traditional = opencc_converter("s2t").convert(text)
    traditional_only = sum(a != b for a, b in zip(text, to_simplified, strict=False))
    simplified_only = sum(a != b for a, b in zip(text, to_traditional, strict=False))
    return "zh-Hant" if traditional_only > simplified_only else "zh-Hans"


def identify_languages(texts: list[str | None], candidates: tuple[str, ...], min_confidence: float,
                       hints: list[str | None] | None = None) -> tuple[list[str], list[float]]:
    """BCP-47-style code (en, zh-Hans, zh-Hant, fr, …, or 'und') and lingua's confidence for each text."""
    samples = [(t or "")[:SAMPLE_CHARS] for t in texts]
    results = _detector(tuple(candidates)).compute_language_confidence_values_in_parallel(samples)
    codes, scores = [], []
    for i, (sample, values) in enumerate(zip(samples, results, strict=True)):
        top = values[0] if values else None
        score = float(top.value) if top is not None else 0.0
        if top is None or score < min_confidence:
            hint = (hints[i] if hints else None) or ""
            code = hint.strip().lower() or UNDETERMINED
            if code == "zh":
                code = chinese_script(sample)
        else:
            code = top.language.iso_code_639_1.name.lower()
            if code == "zh":
                code = chinese_script(sample)
        codes.append(code)
        scores.append(round(score, 4))
    return codes, scores


def with_languages(frame: pl.DataFrame, text_column: str, candidates: list[str], min_confidence: float,
                   hint_column: str | None = None) -> pl.DataFrame:
    """``frame`` with ``language`` and ``language_confidence`` columns added."""
    hints = frame.get_column(hint_column).to_list() if hint_column and hint_column in frame.columns else None
    codes, scores = identify_languages(frame.get_column(text_column).to_list(), tuple(candidates), min_confidence,
                                       hints)
    return frame.with_columns(pl.Series("language", codes, dtype=pl.String),
                              pl.Series("language_confidence", scores, dtype=pl.Float64))
