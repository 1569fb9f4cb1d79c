"""What counts as a token, for every script: a Latin/Cyrillic/… word, or one CJK character (Chinese and
Japanese are written without spaces). Used by the quality filters and by near-duplicate shingling."""

CJK_CHARS = r"\p{Han}\p{Hiragana}\p{Katakana}"
TOKEN_PATTERN = rf"[{CJK_CHARS}]|[[\p{{L}}\p{{N}}\p{{M}}]--[{CJK_CHARS}]]+"
CJK_TOKEN_PATTERN = rf"[{CJK_CHARS}]"
# Symbols Gopher counts against a document: hashes, ellipses, bullets, box drawing and other symbol characters.
SYMBOL_PATTERN = r"#|\.\.\.|…|[\p{So}\p{Sk}]"
