"""Text encoding detection and strict, line-by-line decoding.

Detection order: byte-order mark; UTF-16 without BOM (NUL pattern); binary content (NUL bytes); UTF-8 (strict,
judged on the lines that hold non-ASCII bytes so a few corrupt lines do not hide a UTF-8 file); then
charset-normalizer restricted to the codecs our users' exports use. The result names the codec and how it was
found, so nothing is guessed silently.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass

SAMPLE_BYTES = 1 << 20
# Codecs charset-normalizer may choose between, in the order it should prefer them on a tie.
CANDIDATES = ("gb18030", "big5", "cp1252", "shift_jis", "euc_kr", "latin_1")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
WIDE_CODECS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")


class NotTextError(ValueError):
    """The bytes are not text in any encoding we accept."""


@dataclass(frozen=True)
class Detection:
    encoding: str
    method: str  # bom | utf-16-pattern | utf-8 | charset-normalizer | declared

    def __str__(self) -> str:
        return f"{self.encoding} ({self.method})"


def detect_encoding(data: bytes) -> Detection:
    """Name the encoding of ``data`` or raise NotTextError with the reason."""
    if not data:
        raise NotTextError("empty file")
    for bom, name in _BOMS:
        if data.startswith(bom):
            return Detection(name, "bom")
    sample = data[:SAMPLE_BYTES]
    wide = _utf16_without_bom(sample)
    if wide:
        return Detection(wide, "utf-16-pattern")
    check_not_binary(sample)
    if b"\x00" in sample:  # a stray NUL in a few lines: those lines are quarantined, the rest is detected
        sample = b"\n".join(line for line in sample.splitlines() if b"\x00" not in line)
    if _mostly_utf8(sample):
        return Detection("utf-8", "utf-8")
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=list(CANDIDATES)).best()
    if best is None:
        raise NotTextError("no text encoding fits these bytes (charset-normalizer found no candidate)")
    return Detection(codecs.lookup(best.encoding).name, "charset-normalizer")


# C0 control bytes that text never holds (tab, LF, VT, FF, CR and ESC excluded).
_CONTROL_BYTES = bytes([*range(0, 9), 14, 15, *range(16, 27), *range(28, 32)])


def check_not_binary(sample: bytes) -> None:
    """Raise NotTextError when NUL bytes say the sample is binary, not text with a stray NUL in a cell.

    Text with NULs in a few lines (at most one line in ten, and not most of a short file) whose other lines hold
    no control bytes is text: its NUL lines are quarantined one by one. Anything else with NULs is binary.
    """
    if b"\x00" not in sample:
        return
    lines = sample.splitlines()
    nul_lines = sum(1 for line in lines if b"\x00" in line)
    clean = b"".join(line for line in lines if b"\x00" not in line)
    controls = len(clean) - len(clean.translate(None, _CONTROL_BYTES))
    if not clean or nul_lines > max(1, len(lines) // 10) or nul_lines * 2 > len(lines) \
            or controls > 0.01 * len(clean):
        raise NotTextError(f"binary content: {sample.count(0)} NUL bytes in the first {len(sample)} bytes")


def _utf16_without_bom(sample: bytes) -> str | None:
    head = sample[:4096]
    if len(head) < 4:
        return None
    even_nuls = head[0::2].count(0) / (len(head) / 2)
    odd_nuls = head[1::2].count(0) / (len(head) / 2)
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _mostly_utf8(sample: bytes) -> bool:
    """True when at least 90% of the lines holding non-ASCII bytes are valid UTF-8 (ASCII-only: True)."""
    lines = sample.split(b"\n")
    if len(sample) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line inside a character
    non_ascii = [line for line in lines if not line.isascii()]
    if not non_ascii:
        return True
    valid = 0
    for line in non_ascii:
        try:
            line.decode("utf-8")
            valid += 1
        except UnicodeDecodeError:
            pass
    return valid / len(non_ascii) >= 0.9


@dataclass(frozen=True)
class Line:
    number: int  # 1-based physical line number
    text: str | None  # None when the line's bytes are invalid for the codec
    raw: bytes
    error: str | None = None


def iter_lines(data: bytes, encoding: str) -> Iterator[Line]:
    """Decode line by line so one corrupt line is reported alone; CR, LF and CRLF endings all end a line.

    Wide codecs (UTF-16/32) cannot be split on bytes: they are decoded whole, and a decoding error there
    fails the whole file.
    """
    name = codecs.lookup(encoding).name
    if name in WIDE_CODECS or name.startswith(("utf-16", "utf-32")):
        text = data.decode(encoding)  # raises UnicodeDecodeError for the caller to quarantine the file
        for number, line in enumerate(text.splitlines(), start=1):
            yield Line(number, line, line.encode("utf-8"))
        return
    if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    for number, raw in enumerate(data.splitlines(), start=1):
        if b"\x00" in raw:
            yield Line(number, None, raw, f"binary content: {raw.count(0)} NUL bytes in line {number}")
            continue
        try:
            yield Line(number, raw.decode(encoding), raw)
        except UnicodeDecodeError as exc:
            yield Line(number, None, raw, f"invalid bytes for {encoding} at byte {exc.start} of line {number}")
