"""What replaces a finding: a typed placeholder, a mask, nothing (drop), or a consistent keyed pseudonym.

Pseudonyms are keyed (HMAC-SHA256 with a secret from the environment, never logged or stored with the
data): the same value maps to the same surrogate in every file and run that uses the key, so joins and
conversations stay coherent, and nobody without the key can link a surrogate back. Values are folded first
(NFKC, separators and case), so "138 0013 8000" and "13800138000" get one surrogate.

``surrogate`` keeps the format where a model should still learn the structure: phones keep their layout,
resident IDs, Taiwan and Hong Kong IDs and bank cards keep length and carry valid check digits, e-mails stay
e-mails, Chinese names stay a surname plus given name. Surrogate identifiers use forms no real one has — an
18xx birth year, area letter Z, issuer prefix 99, national numbers 100… / 0…, the .invalid domain — so a
scanner can tell them from real ones (``is_surrogate``) and they never collide with a real person's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from ..secret_files import read_or_create
from . import checksums
from .lexicon import COMMON_SURNAMES as SURNAMES

KEY_VARIABLE = "WATERWORKS_PSEUDONYM_KEY"
OPERATORS = ("placeholder", "mask", "drop", "pseudonym")
_GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文斌辉鹏宇浩然欣怡佳琪子涵雨轩博文"
_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew", "Robin")
_LAST = ("Lee", "Chan", "Smith", "Brown", "Wong", "Taylor", "Clark", "Lewis", "Walker", "Young", "King", "Green")


class PseudonymKeyMissing(ValueError):
    pass


@dataclass(frozen=True, repr=False)
class PseudonymKey:
    secret: bytes

    @classmethod
    def from_env(cls, variable: str = KEY_VARIABLE) -> PseudonymKey:
        value = os.environ.get(variable, "")
        if len(value) < 16:
            raise PseudonymKeyMissing(f"set {variable} to a secret of at least 16 characters to use pseudonyms "
                                      "(the same key gives the same pseudonyms across runs)")
        return cls(value.encode())

    @classmethod
    def load(cls, key_file: str | os.PathLike | None, create: bool = True,
             variable: str = KEY_VARIABLE) -> PseudonymKey:
        """The key from ``variable`` when set; else from ``key_file`` (owner-only), created with a random key
        when ``create`` (the local profile: one machine, one key). Production sets the variable from a secret
        store, so every worker shares one key."""
        if os.environ.get(variable):
            return cls.from_env(variable)
        if key_file is None:
            return cls.from_env(variable)  # raises with the reason
        path = os.fspath(key_file)
        try:
            value = read_or_create(path, create)
        except FileNotFoundError:
            raise PseudonymKeyMissing(f"set {variable}: no key in the environment and none at {path}") from None
        if len(value) < 16:
            raise PseudonymKeyMissing(f"the key in {path} is shorter than 16 characters")
        return cls(value.encode())

    def __repr__(self) -> str:  # never show the secret
        return "PseudonymKey(<secret>)"

    def digest(self, entity_type: str, value: str, attempt: int = 0) -> bytes:
        message = f"{entity_type}\x1f{_canonical(entity_type, value)}\x1f{attempt}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).digest()


def identifier_token(key: PseudonymKey, value: str) -> str:
    """A keyed pseudonym for an identifier column (an employee or customer number): the same value gives the same
    token in every table and run under one key, so joins still work; without the key it cannot be reversed or
    recomputed from a guessed value."""
    digest = hmac.new(key.secret, f"IDENTIFIER\x1f{value.strip()}".encode(), hashlib.sha256).digest()
    return "pid-" + base64.b32encode(digest[:15]).decode().lower()


def _canonical(entity_type: str, value: str) -> str:
    folded = checksums.fold(value)
    if entity_type == "PHONE_NUMBER":
        digits = re.sub(r"\D", "", folded)
        return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    return folded.lower() if entity_type == "EMAIL_ADDRESS" else folded


def _digits(seed: bytes, n: int) -> str:
    number = int.from_bytes(hashlib.sha256(seed).digest() + hashlib.sha256(seed + b"+").digest(), "big")
    return str(number).zfill(n)[-n:]


def _relayout(template: str, digits: str) -> str:
    """Put ``digits`` into the digit positions of ``template`` (separators, '+', letters kept)."""
    it = iter(digits)
    return "".join(next(it) if c.isdigit() else c for c in checksums.fold_width(template))


def _cn_id(seed: bytes) -> str:
    d = _digits(seed, 30)
    body = f"{d[:6]}18{int(d[6:8]) % 100:02d}{int(d[8:10]) % 12 + 1:02d}{int(d[10:12]) % 28 + 1:02d}{d[12:15]}"
    return body + checksums.cn_resident_id_check_char(body)


def _tw_id(seed: bytes) -> str:
    d = _digits(seed, 12)
    for check in "0123456789":
        candidate = f"Z{'12'[int(d[0]) % 2]}{d[1:8]}{check}"
        if checksums.tw_national_id_valid(candidate):
            return candidate
    raise AssertionError("a check digit always exists")


def _hk_id(seed: bytes) -> str:
    digits = _digits(seed, 6)
    return f"ZZ{digits}({checksums.hk_id_check_digit('ZZ', digits)})"


_COUNTRY_CODES = ("852", "853", "886", "86", "65", "61", "44", "1")


def _split_phone(value: str) -> tuple[str, str]:
    """(international prefix and country code digits, national digits) of a phone number."""
    text = checksums.fold_width(value).lstrip()
    digits = re.sub(r"\D", "", text)
    if not text.startswith(("+", "00")) or text.startswith("000"):  # 000…: a surrogate's national number
        return "", digits
    rest = digits[2:] if text.startswith("00") else digits
    code = next((c for c in _COUNTRY_CODES if rest.startswith(c)), "")
    prefix = digits[:len(digits) - len(rest)] + code
    return prefix, digits[len(prefix):]


def _phone(value: str, seed: bytes) -> str:
    """Same layout and country code; the national number becomes one no operator assigns: 100 + 8 digits for an
    11-digit (mainland mobile) number, 000 + digits otherwise (a national number never starts with 00)."""
    prefix, national = _split_phone(value)
    n = len(national)
    if n < 4:
        return value
    fresh = ("100" + _digits(seed, n - 3)) if n == 11 and national.startswith("1") else ("000" + _digits(seed, n - 3))
    return _relayout(value, prefix + fresh)


def _card(seed: bytes, length: int) -> str:
    body = "99" + _digits(seed, length - 3)  # issuer prefix 99: unassigned, so never a real card
    for check in "0123456789":
        if checksums.luhn_valid(body + check):
            return body + check
    raise AssertionError("a Luhn digit always exists")


def surrogate(entity_type: str, value: str, key: PseudonymKey) -> str:
    for attempt in range(8):
        candidate = _surrogate(entity_type, value, key.digest(entity_type, value, attempt))
        if _canonical(entity_type, candidate) != _canonical(entity_type, value):
            return candidate
    return f"<{entity_type}_{key.digest(entity_type, value).hex()[:10]}>"


def _surrogate(entity_type: str, value: str, seed: bytes) -> str:
    folded = checksums.fold(value)
    if entity_type == "CN_RESIDENT_ID":
        return _cn_id(seed)
    if entity_type == "TW_NATIONAL_ID":
        return _tw_id(seed)
    if entity_type == "HK_ID":
        return _hk_id(seed)
    if entity_type == "BANK_CARD":
        card = _card(seed, len(re.sub(r"\D", "", folded)))
        return _relayout(value, card) if re.sub(r"\D", "", folded) else card
    if entity_type == "PHONE_NUMBER":
        return _phone(value, seed)
    if entity_type == "EMAIL_ADDRESS":
        return f"user.{seed.hex()[:10]}@example.invalid"
    if entity_type == "PERSON":
        if re.search(r"[\u4e00-\u9fff]", value):
            size = max(1, min(2, len(value) - 1))
            given = "".join(_GIVEN_CHARS[b % len(_GIVEN_CHARS)] for b in seed[1:1 + size])
            return SURNAMES[seed[0] % len(SURNAMES)] + given
        return f"{_FIRST[seed[0] % len(_FIRST)]} {_LAST[seed[1] % len(_LAST)]}"
    return f"<{entity_type}_{seed.hex()[:10]}>"


def is_surrogate(entity_type: str, value: str) -> bool:
    """True for the identifiers ``surrogate`` makes (reserved forms no real identifier has)."""
    v = checksums.fold(value)
    if entity_type == "CN_RESIDENT_ID":
        return len(v) == 18 and v[6:8] == "18"
    if entity_type == "TW_NATIONAL_ID":
        return v.startswith("Z")
    if entity_type == "HK_ID":
        return v.startswith("ZZ")
    if entity_type == "BANK_CARD":
        return re.sub(r"\D", "", v).startswith("99")
    if entity_type == "EMAIL_ADDRESS":
        return v.lower().endswith("@example.invalid")
    if entity_type == "PHONE_NUMBER":
        national = _split_phone(value)[1]
        return (len(national) == 11 and national.startswith("100")) or national.startswith("000")
    return False


def has_surrogate_name_shape(value: str) -> bool:
    """A name of the shape ``_surrogate`` writes for PERSON (a first + last name of its lists, a common surname
    + given characters of its list). Unlike identifiers, surrogate names have no reserved form: many real
    names have this shape too (周建国), so only a scan of text known to be pseudonymized may use this."""
    words = value.split()
    if len(words) == 2 and words[0] in _FIRST and words[1] in _LAST:
        return True
    return 2 <= len(value) <= 3 and value[0] in SURNAMES and all(c in _GIVEN_CHARS for c in value[1:])


_PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*(?:_[0-9a-f]{6,})?>")


def blank_placeholders(text: str) -> str:
    """``text`` with the placeholders this module writes (``<PERSON>``, ``<EMAIL_ADDRESS_3f9c…>``) blanked to
    spaces of the same length: a detector run over redacted text must not read them as names."""
    return _PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text)


def replacement(operator: str, entity_type: str, value: str, key: PseudonymKey | None = None) -> str:
    if operator == "placeholder":
        return f"<{entity_type}>"
    if operator == "mask":
        return "".join("*" if c.isalnum() else c for c in value)
    if operator == "drop":
        return ""
    if operator == "pseudonym":
        if key is None:
            raise PseudonymKeyMissing("the pseudonym operator needs a key")
        return surrogate(entity_type, value, key)
    raise ValueError(f"unknown operator {operator!r}; known: {', '.join(OPERATORS)}")
