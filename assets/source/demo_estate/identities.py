"""Synthetic personal data for the demo estate: checksum-valid identifiers and Faker identities.

Every value here is fake but structurally valid, so that detectors with validators (GB 11643 checksums, Luhn,
Taiwan and Hong Kong check digits) can be measured against it.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from faker import Faker

_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_CHECK = "10X98765432"
_TW_LETTERS = {ch: v for ch, v in zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True)}


def cn_resident_id_checksum(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits of a resident ID."""
    return _CN_CHECK[sum(int(d) * w for d, w in zip(first17, _CN_WEIGHTS, strict=True)) % 11]


def tw_national_id_valid(value: str) -> bool:
    if len(value) != 10 or value[0] not in _TW_LETTERS or not value[1:].isdigit():
        return False
    n = _TW_LETTERS[value[0]]
    digits = [n // 10, n % 10] + [int(c) for c in value[1:]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def hk_id(rng: random.Random) -> str:
    """A Hong Kong identity card number with a valid check digit, formatted A123456(7)."""
    letter = rng.choice(string.ascii_uppercase)
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    total = 36 * 9 + (ord(letter) - 55) * 8 + sum(int(d) * w for d, w in zip(digits, range(7, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return f"{letter}{digits}({'A' if check == 10 else check})"


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def luhn_valid(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    id_type: str  # CN_RESIDENT_ID | TW_NATIONAL_ID | HK_ID
    mobile: str
    email: str
    address: str
    bank_card: str


class IdentityFactory:
    """Deterministic identities for one seed; ``big5=True`` keeps Taiwan values encodable in Big5."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.cn = Faker("zh_CN")
        self.tw = Faker("zh_TW")
        self.en = Faker("en_US")
        for i, fake in enumerate((self.cn, self.tw, self.en)):
            fake.seed_instance(seed * 31 + i)

    def _card(self) -> str:
        if self.rng.random() < 0.6:  # UnionPay, 16 or 19 digits
            return luhn_complete("62", self.rng.choice((16, 19)), self.rng)
        return luhn_complete(self.rng.choice(("4", "51", "37")), 16, self.rng)

    def _cn_mobile(self) -> str:
        digits = self.cn.phone_number()
        style = self.rng.random()
        if style < 0.6:
            return digits
        if style < 0.8:
            return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"

    def mainland(self) -> Person:
        name = self.cn.name()
        return Person(name, self.cn.ssn(), "CN_RESIDENT_ID", self._cn_mobile(), self.en.free_email(),
                      self.cn.address(), self._card())

    def taiwan(self, big5: bool = True) -> Person:
        while True:
            digits = "09" + "".join(self.rng.choice(string.digits) for _ in range(8))
            person = Person(self.tw.name(), self.tw.ssn(), "TW_NATIONAL_ID",
                            f"{digits[:4]}-{digits[4:7]}-{digits[7:]}", self.en.free_email(), self.tw.address(),
                            self._card())
            if not big5 or all(_encodes(v, "big5") for v in (person.name, person.address)):
                return person

    def hong_kong(self) -> Person:
        name = self.tw.name()
        mobile = f"+852 {self.rng.choice('5689')}{self.rng.randrange(100, 1000)} {self.rng.randrange(1000, 10000)}"
        return Person(name, hk_id(self.rng), "HK_ID", mobile, self.en.free_email(), self.tw.address(), self._card())

    def english(self) -> Person:
        phone = f"({self.rng.randrange(201, 990)}) {self.rng.randrange(200, 999)}-{self.rng.randrange(1000, 10000)}"
        return Person(self.en.name(), self.en.ssn(), "US_SSN", phone, self.en.email(),
                      self.en.address().replace("\n", ", "), self._card())

    def passport(self) -> str:
        return self.rng.choice("EGDP") + "".join(self.rng.choice(string.digits) for _ in range(8))


def _encodes(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
        return True
    except UnicodeEncodeError:
        return False
