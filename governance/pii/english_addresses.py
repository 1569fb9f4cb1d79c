"""US-style postal addresses, which Presidio has no recognizer for: a house number and street (any suffix:
Road, Walk, Shoals… — too many to list), an optional unit, the city, a two-letter state and a ZIP code; and the
military forms (PSC/Unit … Box … APO/FPO/DPO, ship names … FPO). Anchored on the state + ZIP tail, so a
sentence that merely mentions a street does not match."""

from __future__ import annotations

import re

from .presidio import Pattern
from .recognizers import WindowContextRecognizer

_WORDS = r"[A-Z][A-Za-z'.]*(?: [A-Z][A-Za-z'.]*){0,3}"
_UNIT = r"(?: (?:Apt\.?|Suite|Unit|Ste\.?|#) ?[0-9A-Z\-]{1,6})?"
_TAIL = r",? [A-Z]{2} \d{5}(?:-\d{4})?(?!\d)"


class EnglishAddressRecognizer(WindowContextRecognizer):
    ENTITY = "ADDRESS"
    REQUIRES = re.compile(r"\d{3}")
    PATTERNS = [
        Pattern("us_street_address", r"(?<![\w-])\d{1,6} " + _WORDS + _UNIT + ", " + _WORDS + _TAIL, 0.7),
        Pattern("us_military_address", r"(?<![\w-])(?:(?:PSC|Unit) \d{3,5},? Box \d{3,5}|(?:USNS|USNV|USS|USCGC) "
                r"[A-Z][a-z]+),? (?:APO|FPO|DPO) (?:AA|AE|AP) \d{5}(?!\d)", 0.7),
    ]
    CONTEXT = ["address", "live at", "ship to", "deliver to", "mail to", "地址", "住址"]
