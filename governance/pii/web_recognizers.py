"""E-mail addresses, URLs and IP addresses in Chinese text.

Presidio's own recognizers for these anchor on ``\\b``, which never matches between a CJK character and a
Latin letter ("发到abc@example.com" has no word boundary before "a"), so in Chinese text they miss. These use
ASCII lookarounds instead and validate like Presidio does (tldextract for domains is avoided: offline)."""

from __future__ import annotations

import ipaddress
import re

from .presidio import Pattern
from .recognizers import WindowContextRecognizer

_ASCII_WORD_BEFORE = r"(?<![A-Za-z0-9._%+\-])"
_ASCII_WORD_AFTER = r"(?![A-Za-z0-9\-])"


class CjkSafeEmailRecognizer(WindowContextRecognizer):
    ENTITY = "EMAIL_ADDRESS"
    REQUIRES = re.compile("[@＠]")
    PATTERNS = [Pattern("email", _ASCII_WORD_BEFORE + r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+"
                        r"(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}" + _ASCII_WORD_AFTER, 1.0)]
    CONTEXT = ["邮箱", "郵箱", "邮件", "郵件", "email", "e-mail"]


_TLDS = "com|net|org|gov|edu|mil|int|info|biz|io|ai|app|dev|co|cn|hk|tw|mo|sg|jp|kr|uk|de|fr|us|ca|au|in|eu"


class CjkSafeUrlRecognizer(WindowContextRecognizer):
    """URLs with a scheme or www., and bare domains with a common top-level domain written in lower case (also
    used for English, instead of Presidio's, which reads "wrong.This is" as the domain wrong.th)."""

    ENTITY = "URL"
    REQUIRES = re.compile(r"(?i)://|www\.|[a-z0-9]\.[a-z]")
    REGEX_FLAGS = re.DOTALL | re.MULTILINE  # case matters for bare domains: a sentence's "end.The" is none
    PATTERNS = [
        Pattern("url", r"(?<![A-Za-z0-9])(?i:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", 0.6),
        Pattern("bare_domain", r"(?<![A-Za-z0-9@.\-_])(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS
                + r")(?![A-Za-z0-9\-])(?:/[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]*)?", 0.5),
    ]
    CONTEXT = ["网址", "網址", "链接", "鏈接", "url", "link"]


class CjkSafeIpRecognizer(WindowContextRecognizer):
    ENTITY = "IP_ADDRESS"
    REQUIRES = re.compile(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]")
    PATTERNS = [
        Pattern("ipv4", r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9.])", 0.6),
        Pattern("ipv6", r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:])", 0.6),
    ]
    CONTEXT = ["ip", "地址", "服务器", "伺服器"]

    def validate_result(self, pattern_text: str) -> bool:
        try:
            ipaddress.ip_address(pattern_text)
        except ValueError:
            return False
        return True


def cjk_safe_web_recognizers(language: str) -> list[WindowContextRecognizer]:
    return [CjkSafeEmailRecognizer(language), CjkSafeUrlRecognizer(language), CjkSafeIpRecognizer(language)]
