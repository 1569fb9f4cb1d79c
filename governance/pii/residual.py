"""An independent, stricter detector for what redaction left behind: the second pair of eyes behind the
sanitation stage's blocking check. This module covers identifiers, phones and e-mails; names and addresses
are residual_names.py's (another NER model, and the learned detector at a lower threshold).

Independent: no Presidio, no spaCy, none of the recognizers that did the redaction; plain regular expressions
and the check digits of checksums.py. Stricter: no context words and no score threshold; any digit run of an
identifier's shape that validates counts, any phone of a layout our users write, any e-mail address.
Surrogates that the pseudonym operator writes (reserved forms, operators.is_surrogate) and placeholders
are not findings. Results are counts by type and the ids of affected rows: never values.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from . import checksums
from .operators import is_surrogate

_D = r"[0-9０-９]"
_NOT_DIGIT_BEFORE = r"(?<![0-9０-９])"
_NOT_DIGIT_AFTER = r"(?![0-9０-９])"
_SEP = r"[ \-－]?"
# Not a group of a longer grouped number (a card's "1111 1111" is not a phone).
_NOT_IN_DIGIT_GROUPS_BEFORE = r"(?<![0-9][ \-])"
_NOT_IN_DIGIT_GROUPS_AFTER = r"(?![ \-][0-9])"
# A run of digits and separators long enough to be a phone: checked whole against the pseudonym surrogates.
_PHONE_RUN = re.compile(r"(?:\+|00)?[0-9](?:[0-9 \-]{5,18})[0-9]")

PATTERNS: dict[str, re.Pattern] = {
    "CN_RESIDENT_ID": re.compile(_NOT_DIGIT_BEFORE + _D + "{17}[0-9０-９XxＸｘ]" + _NOT_DIGIT_AFTER),
    "TW_NATIONAL_ID": re.compile(r"(?<![A-Za-z])[A-Za-zＡ-Ｚａ-ｚ][12389８９１２３]" + _D + "{8}" + _NOT_DIGIT_AFTER),
    "HK_ID": re.compile(r"(?<![A-Za-z])[A-Za-z]{1,2}" + _D + r"{6}\s?[(（]?[0-9Aa][)）]?"),
    "BANK_CARD": re.compile(_NOT_DIGIT_BEFORE + _D + "{4}(?:" + _SEP + _D + "{2,4}){2,4}" + _D + "{0,3}"
                            + _NOT_DIGIT_AFTER),
    "EMAIL_ADDRESS": re.compile(r"[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
    "IBAN_CODE": re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"),
    "IP_ADDRESS": re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"),
    "PHONE_NUMBER": re.compile(
        _NOT_IN_DIGIT_GROUPS_BEFORE + r"(?:(?:\+|00)(?:86|852|853|886|65|61|44|1)[ \-]?)?(?:"
        + _NOT_DIGIT_BEFORE + "1[3-9]" + _D + _SEP + _D + "{4}" + _SEP + _D + "{4}"      # mainland mobile
        + "|" + _NOT_DIGIT_BEFORE + "0" + _D + "{1,3}" + _SEP + _D + "{3,4}" + _SEP + _D + "{3,4}"  # area code
        + "|" + _NOT_DIGIT_BEFORE + "[2-9]" + _D + "{3}[ \\-]" + _D + "{4}"            # HK / SG: 9123 4567
        + r"|\(?[2-9]\d{2}\)?[ \-.]?\d{3}[ \-.]\d{4}"                                      # North America
        + ")" + _NOT_DIGIT_AFTER + _NOT_IN_DIGIT_GROUPS_AFTER),
    # 8 digits with no separator: a local number only after a phone word (checked in residual_findings).
    "LOCAL_PHONE_NUMBER": re.compile(_NOT_DIGIT_BEFORE + "[2-9]" + _D + "{7}" + _NOT_DIGIT_AFTER),
}
_PHONE_WORDS = re.compile(r"(?i)电话|電話|手机|手機|联系|聯絡|聯繫|号码|號碼|tel|phone|call|mobile")
PHONE_WORD_WINDOW = 30


def _iban_valid(value: str) -> bool:
    v = value.replace(" ", "")
    if not 15 <= len(v) <= 34:
        return False
    digits = "".join(str(int(c, 36)) for c in v[4:] + v[:4])
    return int(digits) % 97 == 1


def _phone_plausible(value: str) -> bool:
    return sum(c.isdigit() for c in checksums.fold_width(value)) >= 8


def _hk_valid(value: str) -> bool:
    v = re.sub(r"[\s()（）]", "", checksums.fold_width(value))
    return checksums.hk_id_valid(v[:-1] + "(" + v[-1] + ")") if len(v) >= 8 else False


VALIDATORS = {
    "CN_RESIDENT_ID": checksums.cn_resident_id_valid,
    "TW_NATIONAL_ID": checksums.tw_national_id_valid,
    "HK_ID": _hk_valid,
    "BANK_CARD": checksums.bank_card_valid,
    "PHONE_NUMBER": _phone_plausible,
    "IBAN_CODE": _iban_valid,
}


# Tokens the plant itself writes: content hashes (hex digests), keyed identifier pseudonyms and row ids
# (``<source id, a Python identifier>:<12 hex of the file's sha256>:<index>``, purification/canonical.py).
# Their digit runs can look like an HK ID or a phone (the hex "…c037143442…" holds an area-code phone); they
# are blanked (same length) before the patterns run. Error mode: a phone written inside that exact id shape is not counted.
_OWN_TOKENS = re.compile(r"\b(?:[0-9a-f]{32,}|pid-[a-z2-7]{24}|[A-Za-z_][A-Za-z0-9_]*:[0-9a-f]{12}:[0-9]+)\b")


def residual_findings(text: str) -> list[str]:
    """Entity types of what the strict detector finds in ``text`` (one entry per finding)."""
    if not text:
        return []
    text = checksums.fold_width(text)  # one character for one: full-width digits and letters match as ASCII
    text = _OWN_TOKENS.sub(lambda m: " " * len(m.group(0)), text)
    found = []
    taken = [m.span() for m in _PHONE_RUN.finditer(text) if is_surrogate("PHONE_NUMBER", m.group(0))]
    for entity, pattern in PATTERNS.items():  # identifiers first: a resident ID is not also a phone
        for match in pattern.finditer(text):
            value, span = match.group(0), match.span()
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue
            if entity == "LOCAL_PHONE_NUMBER":
                if not _PHONE_WORDS.search(text, max(0, span[0] - PHONE_WORD_WINDOW), span[0]):
                    continue
                entity = "PHONE_NUMBER"
            validator = VALIDATORS.get(entity)
            if validator is not None and not validator(value):
                continue
            if is_surrogate(entity, value):
                continue
            taken.append(span)
            found.append(entity)
    return found


@dataclass
class ResidualReport:
    """Pattern findings (``by_type``: identifiers, phones, e-mails…) and, apart, residual names and addresses
    (``names_by_type``, residual_names.py), with the rows that hold them."""
    values_scanned: int = 0
    by_type: Counter = field(default_factory=Counter)
    rows: dict[str, Counter] = field(default_factory=dict)  # row id → counts by type
    names_by_type: Counter = field(default_factory=Counter)
    values_with_names: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_type.values())

    @property
    def name_share(self) -> float:
        return self.values_with_names / self.values_scanned if self.values_scanned else 0.0

    def absorb(self, other: ResidualReport) -> None:
        """Add another part's counts (the parts scanned disjoint rows)."""
        self.values_scanned += other.values_scanned
        self.by_type.update(other.by_type)
        self.names_by_type.update(other.names_by_type)
        self.values_with_names += other.values_with_names
        for row_id, counts in other.rows.items():
            self.rows.setdefault(row_id, Counter()).update(counts)

    def add_names(self, row_id: str, column: str, entity_types: list[str]) -> None:
        if not entity_types:
            return
        self.values_with_names += 1
        for entity in entity_types:
            self.names_by_type[entity] += 1
            self.rows.setdefault(row_id, Counter())[f"{column}:{entity}"] += 1

    def add(self, row_id: str, column: str, text: str) -> None:
        self.values_scanned += 1
        for entity in residual_findings(text):
            self.by_type[entity] += 1
            self.rows.setdefault(row_id, Counter())[f"{column}:{entity}"] += 1
