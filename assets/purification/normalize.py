"""Text normalizers, each one small function over a polars expression (vectorized, Rust regex engine).

Each returns a new expression; none mutates data. ``normalize_text`` chains the ones a source asks for, in a
fixed order (markup → e-mail clutter → Unicode → control characters → width → whitespace). HTML entities and
OpenCC conversion are the two places that call Python per row: polars has no entity decoder and OpenCC is a C++
library with a per-string API; both only touch the rows that need them.
"""

from __future__ import annotations

import html
from functools import lru_cache

import polars as pl

# Zero-width and bidi/format characters (category Cf) and C0/C1 controls except tab and newline.
_CONTROL = r"[\p{Cf}\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]"
_HORIZONTAL_SPACE = r"[^\S\n]+"  # any whitespace except newline (includes U+3000 ideographic space, NBSP)
_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)
              if chr(c - 0xFEE0).isalnum()}  # Ａ-Ｚ ａ-ｚ ０-９ only: CJK punctuation stays full-width
_FULLWIDTH["\u3000"] = " "


def nfkc(expr: pl.Expr) -> pl.Expr:
    """Unicode NFKC: compatibility forms folded (ﬁ → fi, ① → 1, full-width ASCII → ASCII)."""
    return expr.str.normalize("NFKC")


def strip_control(expr: pl.Expr) -> pl.Expr:
    """Remove control, zero-width and bidi formatting characters; keep tab and newline. \\r\\n → \\n first."""
    return expr.str.replace_all(r"\r\n?", "\n").str.replace_all(_CONTROL, "")


def fullwidth_to_halfwidth(expr: pl.Expr) -> pl.Expr:
    """Full-width digits and Latin letters (how IDs and phones are often typed in Chinese) to ASCII, and the
    ideographic space to a space; Chinese punctuation is left as it is (unlike NFKC)."""
    return expr.str.replace_many(_FULLWIDTH)


def collapse_whitespace(expr: pl.Expr) -> pl.Expr:
    """Runs of spaces/tabs → one space, lines trimmed, at most one blank line between paragraphs."""
    return (expr.str.replace_all(_HORIZONTAL_SPACE, " ")
            .str.replace_all(r"(?m) +$", "").str.replace_all(r"(?m)^ +", "")
            .str.replace_all(r"\n{3,}", "\n\n").str.strip_chars())


def html_to_text(expr: pl.Expr) -> pl.Expr:
    """Drop scripts, styles, comments and the head; block elements become line breaks; tags removed; entities
    decoded (per row, only where an ``&`` remains)."""
    text = (expr.str.replace_all(r"(?is)<(script|style|head|template)\b.*?</(script|style|head|template)\s*>", "")
            .str.replace_all(r"(?s)<!--.*?-->", "")
            .str.replace_all(r"(?i)<br\s*/?>", "\n")
            .str.replace_all(r"(?i)</?(p|div|h[1-6]|li|ul|ol|tr|table|section|article|blockquote|pre|title)\b[^>]*>",
                             "\n")
            .str.replace_all(r"<[^>]*>", ""))
    return pl.when(text.str.contains("&", literal=True)).then(
        text.map_elements(html.unescape, return_dtype=pl.String)).otherwise(text)


def markdown_to_text(expr: pl.Expr) -> pl.Expr:
    """Markdown markup to plain text: headings, emphasis, links and images (their text kept), code fences,
    block quotes, list bullets, tables' rule lines."""
    return (expr.str.replace_all(r"(?m)^```.*$", "")
            .str.replace_all(r"!\[([^\]]*)\]\([^)]*\)", "$1")
            .str.replace_all(r"\[([^\]]+)\]\([^)]*\)", "$1")
            .str.replace_all(r"(?m)^[ \t]{0,3}#{1,6}[ \t]+", "")
            .str.replace_all(r"(?m)^[ \t]{0,3}>[ \t]?", "")
            .str.replace_all(r"(?m)^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", "")
            .str.replace_all(r"(?m)^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*:?-*:?[ \t]*$", "")
            .str.replace_all(r"(\*\*|__)(\S(?:.*?\S)?)(\*\*|__)", "$2")
            .str.replace_all(r"(^|[^\w*])[*_](\S(?:[^*_\n]*?\S)?)[*_]", "${1}$2")
            .str.replace_all(r"`([^`\n]+)`", "$1"))


# A quoted reply: "> " lines, and the attribution line before them ("On Mon, X wrote:", "在…写道：").
_QUOTED_LINES = r"(?m)^[ \t]*>.*(?:\n|$)"
_ATTRIBUTION = r"(?m)^.*(?:\bwrote:|写道[:：]|寫道[:：]|-{3,}\s*Original Message\s*-{3,}|-{3,}\s*原始邮件\s*-{3,}).*(?:\n|$)"
# A signature: the "-- " delimiter line (RFC 3676) and everything after it.
_SIGNATURE = r"(?s)\n-- ?\n.*$"


def strip_email_clutter(expr: pl.Expr) -> pl.Expr:
    """Remove quoted replies, their attribution lines and the signature block of an e-mail body."""
    return expr.str.replace_all(_SIGNATURE, "\n").str.replace_all(_ATTRIBUTION, "").str.replace_all(_QUOTED_LINES, "")


@lru_cache(maxsize=4)
def opencc_converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def convert_chinese(expr: pl.Expr, config: str = "t2s") -> pl.Expr:
    """OpenCC conversion (``t2s``: Traditional → Simplified; ``s2t``, ``tw2s``, ``s2tw``…), per row. Use it to fill
    a separate column: the original text is never overwritten."""
    converter = opencc_converter(config)
    return expr.map_elements(converter.convert, return_dtype=pl.String)


MARKUP = {"html": html_to_text, "markdown": markdown_to_text}


def normalize_text(expr: pl.Expr, *, markup: str | None = None, email: bool = False, unicode_nfkc: bool = True,
                   halfwidth: bool = True) -> pl.Expr:
    """The standard chain for one text column."""
    if markup in MARKUP:
        expr = MARKUP[markup](expr)
    if email:
        expr = strip_email_clutter(expr)
    if unicode_nfkc:
        expr = nfkc(expr)
    expr = strip_control(expr)
    if halfwidth:
        expr = fullwidth_to_halfwidth(expr)
    return collapse_whitespace(expr)


def normalize_field(expr: pl.Expr) -> pl.Expr:
    """A short structured field (name, phone, ID, address): NFKC, no controls, one line, trimmed; '' → null."""
    cleaned = collapse_whitespace(fullwidth_to_halfwidth(strip_control(nfkc(expr))).str.replace_all(r"\s+", " "))
    return pl.when(cleaned == "").then(None).otherwise(cleaned)
