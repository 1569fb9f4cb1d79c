"""Check digits of the identifiers our recognizers validate. Plain functions over strings; full-width digits
are folded first (NFKC), separators ignored where the format allows them."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_CHECK = "10X98765432"
# Taiwan: letter → two-digit area code (I and O were added last, hence the order).
_TW_LETTERS = {ch: v for ch, v in zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True)}
_TW_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)


def fold_width(value: str) -> str:
    """Full-width ASCII and the ideographic space to ASCII, one character for one (offsets unchanged)."""
    return value.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20})


def fold(value: str) -> str:
    """NFKC (full-width digits and letters → ASCII), upper-case, separators (space, dash, parentheses) removed."""
    return re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", value)).upper()


def cn_resident_id_check_char(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits of a resident ID."""
    return _CN_CHECK[sum(int(d) * w for d, w in zip(first17, _CN_WEIGHTS, strict=True)) % 11]


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def cn_resident_id_valid(value: str) -> bool:
    """18 characters: 6-digit area, birth date YYYYMMDD, 3-digit sequence, check character; or the legacy 15
    digits (birth date YYMMDD, no check character)."""
    v = fold(value)
    if len(v) == 18 and v[:17].isdigit() and v[0] != "0":
        return _real_date(int(v[6:10]), int(v[10:12]), int(v[12:14])) and 1900 <= int(v[6:10]) <= 2100 \
            and cn_resident_id_check_char(v[:17]) == v[17]
    if len(v) == 15 and v.isdigit() and v[0] != "0":
        return _real_date(1900 + int(v[6:8]), int(v[8:10]), int(v[10:12]))
    return False


def tw_national_id_valid(value: str) -> bool:
    """Taiwan national ID (letter + 1/2 + 8 digits) and the new-format resident certificate (letter + 8/9 +
    8 digits, since 2021): the same check-digit rule."""
    v = fold(value)
    if len(v) != 10 or v[0] not in _TW_LETTERS or not v[1:].isdigit() or v[1] not in "1289":
        return False
    n = _TW_LETTERS[v[0]]
    digits = [n // 10, n % 10] + [int(c) for c in v[1:]]
    return sum(d * w for d, w in zip(digits, _TW_WEIGHTS, strict=True)) % 10 == 0


def hk_id_check_digit(prefix: str, digits: str) -> str:
    """Check digit of a Hong Kong identity card: one or two letters and six digits."""
    letters = prefix.rjust(2, " ")
    values = [36 if c == " " else ord(c) - 55 for c in letters] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "A" if check == 10 else str(check)


def hk_id_valid(value: str) -> bool:
    v = fold(value)
    m = re.fullmatch(r"([A-Z]{1,2})(\d{6})([\dA])", v)
    return bool(m) and hk_id_check_digit(m.group(1), m.group(2)) == m.group(3)


def luhn_valid(value: str) -> bool:
    digits = [int(c) for c in fold(value) if c.isdigit()]
    if not digits:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def bank_card_valid(value: str) -> bool:
    """13–19 digits (12 for Maestro), Luhn, a plausible issuer prefix (Visa 4, Mastercard 2/5, Amex 34/37,
    UnionPay 62/81, JCB 35 and 1800/2131, Discover and Maestro 5/6), not one repeated digit, and not a valid
    resident ID (18 digits pass Luhn by chance)."""
    v = "".join(c for c in fold(value) if c.isdigit())
    if not 12 <= len(v) <= 19 or len(set(v)) == 1 or v[0] not in "1234568":
        return False
    if (v[0] == "1" and not v.startswith("1800")) or (len(v) == 12 and not v.startswith(("50", "56", "57", "58", "6"))):
        return False
    if len(v) == 18 and cn_resident_id_valid(v):
        return False
    return luhn_valid(v)
