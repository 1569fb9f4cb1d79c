"""Presidio recognizers for the identifiers of mainland China, Taiwan and Hong Kong, and bank cards.

One class each, in Presidio's style: patterns with a base score, a validator (checksum, real date, plausible
prefix) that raises a match to certainty or discards it, and context words. ``\\b`` never matches beside CJK
characters (they are word characters), so patterns use digit/letter lookarounds. Python's ``\\d`` also matches
full-width digits, but literal characters in a pattern do not: recognizers match on a half-width view of
the text (``HALFWIDTH``, one character for one, so offsets hold), and validators fold full-width forms too.

Context: Presidio's own context enhancement compares NLP tokens, which does not work inside unsegmented
Chinese; ``WindowContextRecognizer`` instead looks for its context words in the characters just before a
match and raises the score of a match that has them, and of the next item in a list of such matches.
"""

from __future__ import annotations

import re

from . import checksums
from .presidio import Pattern, PatternRecognizer, RecognizerResult

_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
# Not inside a longer digit run, even one grouped by spaces or dashes (a card number's groups are not phones).
_NOT_DIGIT_BEFORE = r"(?<![\d+])(?<!\d[ \-])"
_NOT_DIGIT_AFTER = r"(?!\d)(?![ \-]\d)"
_SEP = r"[ \-]?"


# Full-width ASCII (！-～) and the ideographic space → ASCII: one character for one, so offsets are unchanged.
HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


# Between two items of a list ("电话是57859826和57859828", "call 555-0101 or 555-0102"): the second shares the
# first one's context.
_LIST_JOINER = re.compile(r"\s*(?:和|与|與|、|,|，|;|；|/|或|或者|及|以及|and|or)\s*")


class WindowContextRecognizer(PatternRecognizer):
    """A pattern recognizer that (1) matches on a half-width view of the text (same offsets), so full-width
    digits and letters — common in Chinese input — need nothing special in patterns, and (2) raises a match to
    ``context_score`` when a context word occurs within ``context_window`` characters before it
    (case-insensitive substring, so it works in unsegmented Chinese)."""

    ENTITY: str = ""
    PATTERNS: list[Pattern] = []
    CONTEXT: list[str] = []
    REGEX_FLAGS: int = re.DOTALL | re.MULTILINE | re.IGNORECASE  # Presidio's default
    # A cheap test the (half-width) text must pass for any pattern to match; None: always run the patterns.
    REQUIRES: re.Pattern | None = None
    context_window = 24
    context_score = 0.85

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(self.ENTITY, name=type(self).__name__, supported_language=supported_language,
                         patterns=list(self.PATTERNS), context=list(self.CONTEXT) or None,
                         global_regex_flags=self.REGEX_FLAGS)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        text = text.translate(HALFWIDTH)
        if self.REQUIRES is not None and self.REQUIRES.search(text) is None:
            return []
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        if not self.context:
            return results
        lowered = text.lower()
        words = [w.lower() for w in self.context]
        previous = None
        for result in sorted(results, key=lambda r: r.start):
            before = lowered[max(0, result.start - self.context_window):result.start]
            listed = previous is not None and previous.score >= self.context_score and \
                _LIST_JOINER.fullmatch(lowered[previous.end:result.start]) is not None
            if result.score < self.context_score and (listed or any(w in before for w in words)):
                result.score = self.context_score
            previous = result
        return results


_FULLWIDTH_LETTER = "A-Za-zＡ-Ｚａ-ｚ"


class CnResidentIdRecognizer(WindowContextRecognizer):
    """Mainland resident identity card: 18 characters with the GB 11643 check character (validated: real birth
    date, checksum), or the legacy 15-digit number (valid date; weak on its own, strong in context)."""

    ENTITY = "CN_RESIDENT_ID"
    REQUIRES = re.compile(r"\d{6}[ \-]?\d{8}")  # 15 digits, or 6 + 8 of a spaced 18-digit ID
    PATTERNS = [
        Pattern("cn_resident_id_18", _NOT_ALNUM_BEFORE + r"\d{6}" + _SEP + r"\d{8}" + _SEP + r"\d{3}[\dXx]"
                + _NOT_ALNUM_AFTER, 0.5),
        Pattern("cn_resident_id_15", _NOT_ALNUM_BEFORE + r"\d{15}" + _NOT_ALNUM_AFTER, 0.1),
    ]
    CONTEXT = ["身份证", "身份證", "证件号", "證件號", "公民身份号码", "resident id", "id card", "id number", "id no"]

    def validate_result(self, pattern_text: str) -> bool | None:
        valid = checksums.cn_resident_id_valid(pattern_text)
        if len(checksums.fold(pattern_text)) == 15:
            return None if valid else False  # a real date is necessary, not sufficient: context decides
        return valid


_EXTENSION = r"(?:\s*(?:转|轉|分机|分機|ext\.?|x)\s*\d{1,6})?"


class CnPhoneRecognizer(WindowContextRecognizer):
    """Mainland mobiles (1[3-9]x, with +86 / 0086 / 86, spaces or dashes) and landlines (0 + area code +
    7–8 digits, with an extension: 转 / ext / x / 分机)."""

    ENTITY = "PHONE_NUMBER"
    PATTERNS = [
        Pattern("cn_mobile", _NOT_DIGIT_BEFORE + r"(?:(?:\+|00)\s?86[ \-]?)?1[3-9]\d" + _SEP + r"\d{4}"
                + _SEP + r"\d{4}" + _NOT_DIGIT_AFTER, 0.6),
        # Written as a phone (area code in parentheses or followed by a dash or space): a landline.
        Pattern("cn_landline", _NOT_DIGIT_BEFORE + r"(?:(?:\+|00)\s?86[ \-]?)?(?:\(0?\d{2,3}\)\s?|0\d{2,3}[ \-])"
                r"\d{3,4}[ \-]?\d{4}" + _EXTENSION + _NOT_DIGIT_AFTER, 0.5),
        Pattern("cn_landline_digits", _NOT_DIGIT_BEFORE + r"0\d{9,11}" + _EXTENSION + _NOT_DIGIT_AFTER, 0.45),
        # A local number without area code (8 digits, not starting 0, 1 or 9): only in context (电话是66174063).
        Pattern("cn_local", _NOT_DIGIT_BEFORE + r"[2-8]\d{7}" + _NOT_DIGIT_AFTER, 0.1),
    ]
    CONTEXT = ["电话", "電話", "手机", "手機", "联系", "聯繫", "致电", "致電", "号码", "號碼", "tel", "phone", "mobile",
               "call"]

    def validate_result(self, pattern_text: str) -> bool | None:
        number = re.split(r"转|轉|分机|ext|x", checksums.fold(pattern_text).lower())[0]
        digits = "".join(c for c in number if c.isdigit())
        international = number.startswith(("+86", "0086"))
        if international:
            digits = digits[4:] if digits.startswith("0086") else digits[2:]
        if len(digits) == 11 and digits[0] == "1":
            return digits[1] in "3456789"  # a mobile: certain
        if digits.startswith("00"):
            return False  # no national number starts with 00 (pseudonym surrogates use 000…)
        if (digits.startswith("0") and 10 <= len(digits) <= 12) or (international and 9 <= len(digits) <= 11):
            return None  # a landline: plausible, left to pattern score and context
        if len(digits) == 8 and digits[0] in "2345678" and not international:
            return None  # a local number: only with context
        return False


class TwPhoneRecognizer(WindowContextRecognizer):
    """Taiwan mobiles (09xx-xxx-xxx, +886 9xx xxx xxx) and landlines: an area code of one to three digits
    after the trunk 0 (02 Taipei, 04 Taichung, 049, 089…), written apart from the subscriber number by a
    dash, a space or parentheses, then 6–8 digits: "02-1551716", "07 2401439", "(02) 2345-6789",
    "+886 2 2345 6789". Any area code written that way is taken (exports hold numbers from old or
    mistyped directories too): 8 to 10 national digits, 9 for a mobile."""

    ENTITY = "PHONE_NUMBER"
    PATTERNS = [
        Pattern("tw_mobile", _NOT_DIGIT_BEFORE + r"(?:(?:\+|00)\s?886[ \-]?9|09)\d{2}" + _SEP + r"\d{3}" + _SEP
                + r"\d{3}" + _NOT_DIGIT_AFTER, 0.6),
        Pattern("tw_landline", _NOT_DIGIT_BEFORE + r"(?:\(0\d{1,3}\)\s?|(?:(?:\+|00)\s?886[ \-]?|0)\d{1,3}"
                r"[ \-])\d{2,4}[ \-]?\d{3,4}" + _EXTENSION + _NOT_DIGIT_AFTER, 0.5),
    ]
    CONTEXT = CnPhoneRecognizer.CONTEXT

    def validate_result(self, pattern_text: str) -> bool | None:
        number = re.split(r"转|轉|分机|分機|ext|x", checksums.fold(pattern_text).lower())[0]
        digits = "".join(c for c in number if c.isdigit())
        for prefix in ("00886", "886", "0"):
            if digits.startswith(prefix):
                digits = digits[len(prefix):]
                break
        if digits.startswith("9") and not re.match(r"\(?0\d[ \-)]", number.strip()):
            return len(digits) == 9 or False  # a mobile: 9 national digits
        return None if 7 <= len(digits) <= 10 else False


class HkPhoneRecognizer(WindowContextRecognizer):
    """Hong Kong numbers: +852 and eight digits starting 2, 3, 5, 6, 8 or 9 (without +852 only in context)."""

    ENTITY = "PHONE_NUMBER"
    PATTERNS = [
        Pattern("hk_with_code", _NOT_DIGIT_BEFORE + r"(?:\+|00)\s?852[ \-]?[235689]\d{3}" + _SEP + r"\d{4}"
                + _NOT_DIGIT_AFTER, 0.7),
        Pattern("hk_local", _NOT_DIGIT_BEFORE + r"[235689]\d{3}[ \-]\d{4}" + _NOT_DIGIT_AFTER, 0.2),
    ]
    CONTEXT = CnPhoneRecognizer.CONTEXT


class TwNationalIdRecognizer(WindowContextRecognizer):
    """Taiwan national ID (A123456789) and the new-format resident certificate (A800000014), check digit."""

    ENTITY = "TW_NATIONAL_ID"
    REQUIRES = re.compile(r"\d{8}")
    PATTERNS = [Pattern("tw_national_id", _NOT_ALNUM_BEFORE + r"[A-Za-z][1289]\d{8}" + _NOT_ALNUM_AFTER,
                        0.5)]
    CONTEXT = ["身分證", "身份證", "統一編號", "居留證", "national id", "id no"]

    def validate_result(self, pattern_text: str) -> bool:
        return checksums.tw_national_id_valid(pattern_text)


class HkIdRecognizer(WindowContextRecognizer):
    """Hong Kong identity card: one or two letters, six digits, check digit (often in parentheses)."""

    ENTITY = "HK_ID"
    REQUIRES = re.compile(r"\d{6}")
    PATTERNS = [Pattern("hk_id", _NOT_ALNUM_BEFORE + r"[A-Za-z]{1,2}\d{6}\s?(?:[(（][\dA][)）]|[\dA]"
                        + _NOT_ALNUM_AFTER + ")", 0.5)]
    CONTEXT = ["身份證", "身份证", "香港", "hkid", "hong kong id", "id card"]

    def validate_result(self, pattern_text: str) -> bool:
        return checksums.hk_id_valid(pattern_text)


class BankCardRecognizer(WindowContextRecognizer):
    """Bank and credit cards of 13–19 digits (UnionPay 62 and 19-digit cards included), grouped or not,
    validated by Luhn and issuer prefix."""

    ENTITY = "BANK_CARD"
    REQUIRES = re.compile(r"\d{4}[ \-]?\d{4}")
    PATTERNS = [Pattern("bank_card", _NOT_ALNUM_BEFORE + r"\d(?:[ \-]?\d){11,18}" + _NOT_ALNUM_AFTER, 0.3)]
    CONTEXT = ["卡号", "卡號", "银行卡", "銀行卡", "信用卡", "card", "visa", "mastercard", "unionpay", "银联"]

    def validate_result(self, pattern_text: str) -> bool:
        return checksums.bank_card_valid(pattern_text)


class PassportRecognizer(WindowContextRecognizer):
    """Passport numbers (Chinese E/G/D/P/S/H/M + 8 digits, and similar letter + 7–8 digit forms), which look
    like many other codes: a weak score alone, a strong one after a context word."""

    ENTITY = "PASSPORT"
    REQUIRES = re.compile(f"[{_FULLWIDTH_LETTER}]\\d{{7}}")
    PATTERNS = [Pattern("passport", _NOT_ALNUM_BEFORE + r"[A-Za-z]{1,2}\d{7,8}" + _NOT_ALNUM_AFTER, 0.05)]
    CONTEXT = ["护照", "護照", "passport", "通行证", "通行證"]


def greater_china_recognizers(language: str = "en") -> list[PatternRecognizer]:
    return [cls(supported_language=language) for cls in (
        CnResidentIdRecognizer, CnPhoneRecognizer, TwPhoneRecognizer, HkPhoneRecognizer, TwNationalIdRecognizer,
        HkIdRecognizer, BankCardRecognizer, PassportRecognizer)]
