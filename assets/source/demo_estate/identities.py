"""Synthetic personal data for the demo estate: checksum-valid identifiers and Faker identities.

Every value here is fake but structurally valid, so that detectors with validators (GB 11643 checksums, Luhn,
Taiwan and Hong Kong check digits) can be measured against it.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from faker import Faker

from waterworks.governance.pii.checksums import hk_id_check_digit


def hk_id(rng: random.Random) -> str:
    """A Hong Kong identity card number with a valid check digit, formatted A123456(7)."""
    letter = rng.choice(string.ascii_uppercase)
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    return f"{letter}{digits}({hk_id_check_digit(letter, digits)})"


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


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
