"""Quality filters in the style of Gopher / C4 / datatrove, columnar.

Each filter is one polars expression that is true where a document fails, named by its drop reason.
``apply_filters`` evaluates all of them at once, gives each document the first reason it fails (or null),
splits kept from dropped, and counts drops per reason with a few example ids — never any text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .config import FilterConfig
from .tokens import SYMBOL_PATTERN, TOKEN_PATTERN

EXAMPLES_PER_REASON = 5


@dataclass(frozen=True)
class QualityFilter:
    reason: str
    fails: pl.Expr
    description: str


def _lines(text: pl.Expr) -> pl.Expr:
    return text.str.split("\n").list.eval(pl.element().str.strip_chars()).list.eval(
        pl.element().filter(pl.element() != ""))


def quality_filters(config: FilterConfig, text: str = "body") -> list[QualityFilter]:
    body = pl.col(text).fill_null("")
    tokens = body.str.count_matches(TOKEN_PATTERN)
    lines = _lines(body)
    n_lines = lines.list.len()
    alpha_tokens = body.str.count_matches(r"[\p{Han}\p{Hiragana}\p{Katakana}]|[\p{L}\p{N}]*\p{L}[\p{L}\p{N}]*")
    pattern = "|".join(f"(?i:{p})" for p in (config.boilerplate_patterns or ["(?!)"]))
    boilerplate = lines.list.eval(pl.element().str.contains(pattern).cast(pl.UInt32)).list.sum()
    repeated = n_lines - lines.list.n_unique()
    return [
        QualityFilter("empty", body.str.strip_chars() == "", "no text at all"),
        QualityFilter("too_short", tokens < config.min_tokens, f"fewer than {config.min_tokens} tokens"),
        QualityFilter("too_long", tokens > config.max_tokens, f"more than {config.max_tokens} tokens"),
        QualityFilter("symbol_ratio", body.str.count_matches(SYMBOL_PATTERN) > config.max_symbol_ratio * tokens,
                      f"more than {config.max_symbol_ratio} symbols per token"),
        QualityFilter("alpha_ratio", alpha_tokens < config.min_alpha_token_ratio * tokens,
                      f"under {config.min_alpha_token_ratio} of tokens contain a letter"),
        QualityFilter("duplicate_lines", (n_lines >= 2) & (repeated > config.max_duplicate_line_ratio * n_lines),
                      f"over {config.max_duplicate_line_ratio} of lines repeat an earlier line"),
        QualityFilter("boilerplate", (n_lines >= 1) & (boilerplate > config.max_boilerplate_line_ratio * n_lines),
                      f"over {config.max_boilerplate_line_ratio} of lines are boilerplate"),
    ]


@dataclass
class DropStats:
    """Rows dropped per reason, with a few example ids per reason (ids only)."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, dropped: pl.DataFrame, id_column: str, reason_column: str = "drop_reason") -> None:
        if dropped.is_empty():
            return
        summary = (dropped.group_by(reason_column, maintain_order=True)
                   .agg(pl.len().alias("n"), pl.col(id_column).head(EXAMPLES_PER_REASON).alias("examples")))
        for reason, n, examples in summary.iter_rows():
            self.counts[reason] = self.counts.get(reason, 0) + int(n)
            self.examples.setdefault(reason, [])
            self.examples[reason] = (self.examples[reason] + list(examples))[:EXAMPLES_PER_REASON]

    def merge(self, other: DropStats) -> None:
        """``other``'s counts added, its examples after ours (the order rows were dropped in)."""
        for reason, n in other.counts.items():
            self.counts[reason] = self.counts.get(reason, 0) + n
            self.examples[reason] = (self.examples.get(reason, []) + other.examples.get(reason, []))[
                :EXAMPLES_PER_REASON]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def apply_filters(frame: pl.DataFrame, filters: list[QualityFilter]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, dropped); ``dropped`` carries a ``drop_reason`` column: the first filter each row fails."""
    if not filters or frame.is_empty():
        return frame, frame.with_columns(pl.lit(None, dtype=pl.String).alias("drop_reason")).clear()
    reason = pl.coalesce([pl.when(f.fails).then(pl.lit(f.reason)) for f in filters]).alias("drop_reason")
    flagged = frame.with_columns(reason)
    kept = flagged.filter(pl.col("drop_reason").is_null()).drop("drop_reason")
    dropped = flagged.filter(pl.col("drop_reason").is_not_null())
    return kept, dropped
