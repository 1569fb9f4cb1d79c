"""Labelled text for the learned PII detector: readers of the public NER corpora in ``data/ner/`` and a
synthetic generator, all producing one shape — ``Example(text, spans)`` with character spans labelled
``PER`` (a person's name), ``ADDR`` (a postal address), ``ORG`` and ``LOC`` (organisations and bare place
names: not personal, learned so that the detector tells them apart from names).

Splits: CoNLL-2003 train, CLUENER train less a held-out slice (``cluener_dev``: every text whose digest falls
in the last 10 %), Resume train, and synthetic text from the *training* templates are for training. CoNLL
valid, Resume dev, the CLUENER slice and synthetic text from the *held-out* templates are the dev splits
(`bench/sanitation_quality.py`); nothing is tuned on any public test split.

Augmentation (``augment``), designed for text nobody here wrote:
- mention replacement: a person in a real sentence becomes a Faker name of another locale (Latin, Chinese
  in either script, romanised Chinese, a foreign name transliterated into Chinese characters), so the context
  is real and the names are varied;
- case: a share of English sentences lower-cased or upper-cased whole (tweets, headlines, shouting);
- script and width: Chinese sentences copied into Traditional script (OpenCC) or with full-width ASCII.

The synthetic generator writes names, addresses, organisations and identifiers into carrier shapes that
enterprise data has and the corpora lack: e-mail headers and signatures, chat turns, tables and CSV lines,
forms, shipping notes, multi-line postal addresses of many countries, in English and Chinese (Simplified and
Traditional), plus negatives — real Banking77 and CrossWOZ sentences with no name — so the detector learns
what not to redact, and lone table cells (``cells``: a name or address alone, or a word cut from a real
sentence alone), which carry no context at all.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ("PER", "ADDR", "ORG", "LOC")
DATA = Path(__file__).resolve().parents[2] / "data"
NER = DATA / "ner"

_CONLL_MAP = {"PER": "PER", "ORG": "ORG", "LOC": "LOC"}  # MISC (nationalities, events…) is not labelled
_CLUENER_MAP = {"name": "PER", "address": "LOC", "company": "ORG", "government": "ORG", "organization": "ORG"}
_RESUME_MAP = {"NAME": "PER", "ORG": "ORG", "LOC": "LOC"}


@dataclass
class Example:
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end exclusive, label)
    source: str = ""

    def to_json(self) -> str:
        return json.dumps({"text": self.text, "spans": [list(s) for s in self.spans], "source": self.source},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Example:
        row = json.loads(line)
        return cls(row["text"], [tuple(s) for s in row["spans"]], row.get("source", ""))


def read_jsonl(path: Path) -> list[Example]:
    """Labelled examples; a line that is not ``{"text": str, "spans": [[start, end, label], …]}`` with spans
    inside the text is an error naming the file and line."""
    examples = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            example = Example.from_json(line)
            if not isinstance(example.text, str) or any(
                    not (0 <= int(s) < int(e) <= len(example.text)) for s, e, _ in example.spans):
                raise ValueError("a span lies outside its text")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: line {number}: not a labelled example ({type(exc).__name__}: "
                             f"{str(exc)[:80]})") from None
        examples.append(example)
    return examples


def write_jsonl(examples: Iterable[Example], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as out:
        for example in examples:
            out.write(example.to_json() + "\n")
            n += 1
    return n


# --- the public corpora -------------------------------------------------------------------------------------

def read_conll(path: Path, source: str = "conll") -> list[Example]:
    """CoNLL-2003 (``token POS chunk tag``, IOB2): tokens joined by single spaces."""
    examples, tokens, tags = [], [], []

    def flush():
        if tokens:
            examples.append(_from_tokens(tokens, tags, _CONLL_MAP, source))
        tokens.clear()
        tags.clear()

    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("-DOCSTART-"):
            flush()
            continue
        parts = line.split()
        tokens.append(parts[0])
        tags.append(parts[-1])
    flush()
    return examples


def read_bmes(path: Path, source: str = "resume") -> list[Example]:
    """Resume NER (``char tag``, BMES/BIOES, one character a line)."""
    examples, chars, tags = [], [], []
    for line in [*Path(path).read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if chars:
                examples.append(_from_chars(chars, tags, _RESUME_MAP, source))
            chars, tags = [], []
            continue
        char, tag = line.split()
        chars.append(char)
        tags.append(tag)
    return examples


def read_cluener(path: Path, source: str = "cluener") -> list[Example]:
    examples = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        spans = []
        for kind, surfaces in (row.get("label") or {}).items():
            label = _CLUENER_MAP.get(kind)
            if label is None:
                continue
            for offsets in surfaces.values():
                spans.extend((start, end + 1, label) for start, end in offsets)
        examples.append(Example(row["text"], _non_overlapping(spans), source))
    return examples


def _from_tokens(tokens: list[str], tags: list[str], mapping: dict, source: str) -> Example:
    text, spans, start, end, label = "", [], None, 0, None
    for token, tag in zip(tokens, tags, strict=True):
        if text:
            text += " "
        kind = tag[2:] if "-" in tag else None
        mapped = mapping.get(kind) if kind else None
        if start is not None and (tag.startswith("B-") or mapped != label or tag == "O"):
            spans.append((start, end, label))
            start = None
        if mapped is not None and start is None:
            start, label = len(text), mapped
        text += token
        end = len(text)
    if start is not None:
        spans.append((start, end, label))
    return Example(text, spans, source)


def _from_chars(chars: list[str], tags: list[str], mapping: dict, source: str) -> Example:
    spans, start = [], None
    for i, tag in enumerate(tags):
        head, _, kind = tag.partition("-")
        label = mapping.get(kind)
        if head in ("B", "S") or label is None:
            start = None
        if label is None:
            continue
        if head in ("B", "S"):
            start = i
        if head in ("E", "S") and start is not None:
            spans.append((start, i + 1, label))
            start = None
    return Example("".join(chars), spans, source)


def _non_overlapping(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    kept: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def held_out(text: str, share: float = 0.1) -> bool:
    """Deterministic dev membership by content: the same text is always on the same side."""
    return int(hashlib.blake2b(text.encode(), digest_size=4).hexdigest(), 16) / 2**32 >= 1 - share


def corpus_splits(ner: Path = NER) -> dict[str, list[Example]]:
    """The public corpora as training and dev splits (see the module docstring)."""
    cluener = read_cluener(ner / "cluener" / "train.json")
    return {
        "conll_train": read_conll(ner / "conll2003" / "train.txt", "conll"),
        "conll_valid": read_conll(ner / "conll2003" / "valid.txt", "conll_valid"),
        "cluener_train": [e for e in cluener if not held_out(e.text)],
        "cluener_dev": [Example(e.text, e.spans, "cluener_dev") for e in cluener if held_out(e.text)],
        "resume_train": read_bmes(ner / "resume" / "train.char.bmes", "resume"),
        "resume_dev": read_bmes(ner / "resume" / "dev.char.bmes", "resume_dev"),
    }


# --- names, addresses and organisations from Faker ----------------------------------------------------------

# Latin-script locales (names and postal addresses of many countries), and the Chinese ones.
LATIN_LOCALES = ("en_US", "en_GB", "en_AU", "en_CA", "en_IN", "en_PH", "en_NZ", "en_IE", "de_DE", "de_AT", "de_CH",
                 "fr_FR", "fr_CA", "es_ES", "es_MX", "es_CO", "it_IT", "pt_BR", "pt_PT", "nl_NL", "pl_PL", "cs_CZ",
                 "sv_SE", "da_DK", "no_NO", "fi_FI", "tr_TR", "ro_RO", "hu_HU", "hr_HR", "sk_SK", "id_ID", "vi_VN",
                 "fil_PH", "lt_LT", "lv_LV", "et_EE", "sl_SI")
CHINESE_LOCALES = ("zh_CN", "zh_TW")


class NameSource:
    """Faker generators per locale, seeded: names (full, first, last), addresses, companies, contact details."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.rng = random.Random(seed)
        self._fakers = {}
        self._seed = seed
        self._faker_class = Faker

    def faker(self, locale: str):
        if locale not in self._fakers:
            try:
                fake = self._faker_class(locale)
            except AttributeError:  # a locale this Faker lacks
                fake = self._faker_class("en_US")
            fake.seed_instance(self._seed + len(self._fakers))
            self._fakers[locale] = fake
        return self._fakers[locale]

    def call(self, fake, method: str) -> str:
        """``fake.method()``, or en_US's where the locale lacks the provider."""
        try:
            return getattr(fake, method)()
        except AttributeError:
            return getattr(self.faker("en_US"), method)()

    def latin(self):
        return self.faker(self.rng.choice(LATIN_LOCALES))

    def chinese(self):
        return self.faker(self.rng.choice(CHINESE_LOCALES))

    def person(self, script: str) -> str:
        """A full name; ``latin`` sometimes gives a romanised Chinese or a bare first/last name."""
        if script == "zh":
            fake = self.chinese()
            roll = self.rng.random()
            if roll < 0.15:  # two-character names (李艳), common and the hardest
                return fake.last_name() + fake.first_name()[:1]
            if roll < 0.3:  # a foreign person in Chinese text
                return transliterated_name(self.rng)
            return fake.name()
        roll = self.rng.random()
        if roll < 0.08:
            return romanised_chinese(self.rng)
        fake = self.latin()
        if roll < 0.14:
            return fake.first_name()
        if roll < 0.22:
            return fake.last_name()
        if roll < 0.28:
            return f"{fake.first_name()} {fake.first_name()[:1]}. {fake.last_name()}"
        return _plain_name(fake)

    def address(self, script: str) -> str:
        fake = self.chinese() if script == "zh" else self.latin()
        value = self.call(fake, "address")
        if self.rng.random() < 0.5:
            value = value.replace("\n", ", ")
        return value

    def company(self, script: str) -> str:
        return self.call(self.chinese() if script == "zh" else self.latin(), "company")


def _plain_name(fake) -> str:
    """A name without the honorifics and suffixes some locales add (Dr., MBA…), which a text often omits."""
    name = fake.name()
    parts = [p for p in name.split() if not p.endswith(".") or len(p) == 2]
    return " ".join(parts) if len(parts) >= 2 else name


_PINYIN_SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
                    "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Chan", "Wong", "Leung", "Cheung", "Lau", "Ng",
                    "Tsai", "Hsu", "Cheng", "Lee", "Lai", "Ho", "Kwok", "Tang", "Yip")
_PINYIN_SYLLABLES = ("wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie",
                     "tao", "ming", "chao", "xiu", "ying", "hua", "ping", "gang", "hui", "ling", "xin", "yu", "zhi",
                     "mei", "wen", "kai", "hao", "chun", "shu", "ting", "yi", "zhen", "bo", "rui", "xiao")


# Characters of the standard Chinese transliteration of foreign names (新华社译名: 阿·埃·巴·博…): foreign
# people in Chinese news and social media are written with them (米兰内托, 加德纳, 博尔顿).
TRANSLITERATION = ("阿埃艾安奥巴拜班邦贝本比彼波伯博布达戴丹道德迪蒂杜多恩法范菲费芬弗福盖戈格古哈海汉豪赫亨胡华霍基吉加"
                   "杰金卡凯坎科克肯库拉莱兰朗劳勒雷里利莉列林卢鲁路伦罗洛马迈麦曼梅门米密姆纳内尼诺欧帕佩皮普奇乔琼"
                   "瑞若萨塞桑森沙尚什施斯松苏索塔泰坦汤特提托瓦万威维温沃乌西希谢辛休雅亚扬伊因尤约詹兹佐")


def transliterated_name(rng: random.Random) -> str:
    """A foreign name as Chinese text writes it: two to four transliteration characters, sometimes a given
    name and a surname joined by a middle dot (约翰·史密斯 style)."""
    def part(low: int, high: int) -> str:
        return "".join(rng.choice(TRANSLITERATION) for _ in range(rng.randint(low, high)))
    return f"{part(2, 3)}{rng.choice('·•・')}{part(2, 4)}" if rng.random() < 0.35 else part(2, 4)


def romanised_chinese(rng: random.Random) -> str:
    given = "".join(rng.choice(_PINYIN_SYLLABLES) for _ in range(rng.choice((1, 2, 2))))
    given = given.capitalize()
    surname = rng.choice(_PINYIN_SURNAMES)
    if rng.random() < 0.3:
        given = "-".join(s.capitalize() for s in re.findall(r"[^aeiou]*[aeiou]+(?:ng|n)?", given.lower())) or given
    return f"{surname} {given}" if rng.random() < 0.5 else f"{given} {surname}"


# --- synthetic carrier texts ---------------------------------------------------------------------------------

# Placeholders: {PER} a person, {PER2} another, {ADDR} a postal address, {ORG} a company, and unlabelled
# fillers {EMAIL} {PHONE} {DATE} {NUM}. Templates whose index is a multiple of DEV_EVERY are held out: the
# synthetic dev split uses only those, training never sees them.
DEV_EVERY = 5
ENGLISH_TEMPLATES = (
    "{PER} lives at {ADDR}",
    "Billing address: {PER} {ADDR}",
    "From: {PER} <{EMAIL}>\nTo: {PER2} <{EMAIL}>\nSubject: invoice {NUM}",
    "Best regards,\n{PER}\n{ORG}",
    "Agent: How can I help?\n{PER}: my card was charged twice",
    "{PER}\t{PHONE}\t{EMAIL}",
    "{PER},{EMAIL},{PHONE},{DATE}",
    "Ship to: {PER}, {ADDR}",
    "Please contact {PER} at {PHONE} for the delivery.",
    "Hi {PER}, thanks for reaching out about order {NUM}.",
    "Customer name: {PER}\nAddress: {ADDR}\nPhone: {PHONE}",
    "{PER} from {ORG} called about the renewal.",
    "I spoke with {PER} yesterday and she confirmed the refund.",
    "Dear {PER},\nYour package will arrive on {DATE}.",
    "Transfer to {PER} failed, please advise.",
    "{PER} ({EMAIL}) reported the outage.",
    "Name | Phone | City\n{PER} | {PHONE} | {ADDR}",
    "Thanks, {PER}",
    "cc: {PER}, {PER2}",
    "Meeting notes: {PER} and {PER2} agreed to move the deadline.",
    "{PER} moved to {ADDR} last month.",
    "Recipient: {PER}\n{ADDR}",
    "Sent by {PER} on {DATE}",
    "{PER} is the account holder; the co-signer is {PER2}.",
    "Our office is at {ADDR}.",
    "Please send the contract to {ADDR}, attention {PER}.",
    "{PER} wrote:\n> see attached",
    "Approved by {PER}, {ORG}",
    "The driver {PER} could not find {ADDR}.",
    "hey {PER} can u call me back",
    "{PER} - Senior Analyst - {ORG}",
    "Patient: {PER}, DOB {DATE}",
    "{PER}'s new address is {ADDR}.",
    "Kind regards\n\n{PER}\nAccount Manager, {ORG}\n{PHONE}",
    "User {PER} opened a ticket: app crashes on login.",
    "Address: {ADDR}",
    "Ship to:\n{PER}\n{ADDR}",
    "{ORG}\n{ADDR}\n{PHONE}",
    "Return address: {ADDR}",
    "{ADDR}",
    "Please update my address to {ADDR}. Thanks, {PER}",
    "Delivered to {ADDR} on {DATE}",
    "Mailing address\n{PER}\n{ADDR}\nEmail: {EMAIL}",
    "The invoice went to {ADDR} instead of {ADDR}.",
    "Our new warehouse: {ADDR}",
)
CHINESE_TEMPLATES = (
    "找{PER}签收",
    "請聯絡業務{PER}",
    "會員資料：{PER}／{PHONE}",
    "收件人：{PER}，地址：{ADDR}",
    "{PER}：好的，谢谢",
    "客服：您好，请问有什么可以帮您？\n{PER}：我的订单还没到",
    "联系人{PER}，电话{PHONE}",
    "{PER}住在{ADDR}。",
    "寄到{ADDR}，{PER}收",
    "姓名：{PER}\n地址：{ADDR}\n电话：{PHONE}",
    "我是{PER}，想查一下退款进度",
    "{PER}经理明天到{ORG}开会",
    "{PER},{PHONE},{EMAIL}",
    "请转告{PER}，合同已经寄出",
    "{PER}和{PER2}负责这个项目",
    "發件人：{PER} <{EMAIL}>",
    "此致\n{PER}\n{ORG}",
    "麻烦{PER}帮忙确认一下发票",
    "{PER}（{ORG}）来电咨询",
    "已通知{PER}，预计{DATE}送达",
    "送货地址：{ADDR}",
    "{PER}老师您好，作业已提交",
    "申请人{PER}的资料已审核",
    "今天{PER}打电话说地址改成{ADDR}",
    "客户{PER}投诉快递延误",
    "{PER}的快递放在门卫了",
    "谢谢{PER}的耐心解答",
    "负责人：{PER}　电话：{PHONE}",
    "{PER}，{ORG}副总经理",
    "刚才{PER}说他不来了",
    "地址：{ADDR}",
    "收貨地址：{ADDR}　收件人：{PER}",
    "{ORG}\n{ADDR}\n{PHONE}",
    "请寄到{ADDR}",
    "{ADDR}",
)


def _filler(kind: str, names: NameSource, script: str) -> str:
    rng = names.rng
    fake = names.chinese() if script == "zh" else names.latin()
    if kind == "NUM":
        return str(rng.randint(1000, 999999))
    method = {"EMAIL": "email", "PHONE": "phone_number", "DATE": "date"}[kind]
    return names.call(fake, method)


_SLOT = re.compile(r"\{(PER2?|ADDR|ORG|EMAIL|PHONE|DATE|NUM)\}")


def fill_template(template: str, names: NameSource, script: str, source: str) -> Example:
    text, spans, position = "", [], 0
    for match in _SLOT.finditer(template):
        text += template[position:match.start()]
        kind = match.group(1)
        if kind in ("PER", "PER2"):
            value, label = names.person(script), "PER"
        elif kind == "ADDR":
            value, label = names.address(script), "ADDR"
        elif kind == "ORG":
            value, label = names.company(script), "ORG"
        else:
            value, label = _filler(kind, names, script), None
        if label:
            spans.append((len(text), len(text) + len(value), label))
        text += value
        position = match.end()
    return Example(text + template[position:], spans, source)


def synthetic(n: int, seed: int, split: str) -> list[Example]:
    """``n`` synthetic texts per language from the ``train`` or the held-out ``dev`` templates."""
    names = NameSource(seed)
    out = []
    for script, templates in (("en", ENGLISH_TEMPLATES), ("zh", CHINESE_TEMPLATES)):
        chosen = [t for i, t in enumerate(templates) if (i % DEV_EVERY == 0) == (split == "dev")]
        for _ in range(n):
            example = fill_template(names.rng.choice(chosen), names, script, f"synthetic_{script}_{split}")
            if script == "en" and names.rng.random() < 0.1 and len(example.text.lower()) == len(example.text):
                example = Example(example.text.lower(), example.spans, example.source)
            out.append(example)
    return out


def negatives(limit: int, seed: int) -> list[Example]:
    """Real sentences with no person in them (Banking77 queries, CrossWOZ turns), labelled empty."""
    rng = random.Random(seed)
    import csv

    with (DATA / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        english = [row["text"] for row in csv.DictReader(handle)]
    with zipfile.ZipFile(DATA / "crosswoz" / "val.json.zip") as archive:
        dialogues = json.loads(archive.read(archive.namelist()[0]))
    chinese = [turn["content"] for d in dialogues.values() for turn in d["messages"]]
    picked = rng.sample(english, min(limit, len(english))) + rng.sample(chinese, min(limit, len(chinese)))
    return [Example(t, [], "negatives") for t in picked]


def cells(n: int, seed: int) -> list[Example]:
    """Table cells read alone, with no context: half a name or an address by itself (labelled), half a word
    or short phrase cut from a real sentence (Banking77, CrossWOZ: "email", "top up", "金卡", "酒店"), labelled
    empty — so a lone value is judged by what it is, not guessed a name."""
    rng = random.Random(seed)
    names = NameSource(seed + 11)
    phrases = [e.text for e in negatives(3000, seed + 5)]
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.4:
            script = "zh" if rng.random() < 0.5 else "en"
            value = names.person(script)
            label = "PER"
        elif roll < 0.5:
            script = "zh" if rng.random() < 0.5 else "en"
            value, label = names.address(script), "ADDR"
        else:
            text = rng.choice(phrases)
            if _HAN.search(text):
                start = rng.randrange(max(1, len(text) - 1))
                value = text[start:start + rng.randint(1, 4)]
            else:
                words = text.split()
                start = rng.randrange(len(words))
                value = " ".join(words[start:start + rng.choice((1, 1, 2, 3))]).strip(".,?!")
            label = None
        value = value.strip()
        if not value:
            continue
        case = rng.random()
        if case < 0.2 and len(value.lower()) == len(value):
            value = value.lower()
        elif case < 0.3 and len(value.upper()) == len(value):
            value = value.upper()
        out.append(Example(value, [(0, len(value), label)] if label else [], "cells"))
    return out


# --- augmentation -------------------------------------------------------------------------------------------

_HAN = re.compile(r"[\u4e00-\u9fff]")


def replace_mentions(example: Example, names: NameSource, share: float) -> Example:
    """Each person span, with probability ``share``, becomes a Faker name in the text's script."""
    if not any(label == "PER" for *_, label in example.spans):
        return example
    script = "zh" if _HAN.search(example.text) else "en"
    text, spans, position = "", [], 0
    for start, end, label in example.spans:
        text += example.text[position:start]
        value = example.text[start:end]
        if label == "PER" and names.rng.random() < share:
            value = names.person(script)
        spans.append((len(text), len(text) + len(value), label))
        text += value
        position = end
    return Example(text + example.text[position:], spans, example.source + "+names")


def to_traditional(example: Example, converter) -> Example | None:
    """A Traditional-script copy, when OpenCC keeps the length (character for character, so spans hold)."""
    converted = converter.convert(example.text)
    if len(converted) != len(example.text) or converted == example.text:
        return None
    return Example(converted, list(example.spans), example.source + "+hant")


def to_fullwidth(example: Example) -> Example:
    table = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
    return Example(example.text.translate(table), list(example.spans), example.source + "+fullwidth")


def augment(examples: list[Example], seed: int) -> Iterator[Example]:
    """Every example, and the augmented copies described in the module docstring."""
    import opencc

    rng = random.Random(seed)
    names = NameSource(seed + 1)
    converter = opencc.OpenCC("s2t")
    for example in examples:
        yield example
        chinese = _HAN.search(example.text) is not None
        if any(label == "PER" for *_, label in example.spans) and rng.random() < 0.6:
            example = replace_mentions(example, names, share=0.7)
            yield example
        if chinese:
            if rng.random() < 0.35:
                traditional = to_traditional(example, converter)
                if traditional is not None:
                    yield traditional
            if rng.random() < 0.05:
                yield to_fullwidth(example)
        else:
            roll = rng.random()
            cased = example.text.lower() if roll < 0.12 else example.text.upper() if roll < 0.17 else None
            if cased is not None and len(cased) == len(example.text):  # "İ".lower() is two characters
                yield Example(cased, example.spans, example.source + ("+lower" if roll < 0.12 else "+upper"))


def training_examples(seed: int = 13, synthetic_per_language: int = 8000, negatives_per_language: int = 2000,
                      ner: Path = NER, cells_count: int = 6000, corpus_examples: int | None = None) -> list[Example]:
    """The corpora's training splits (``corpus_examples``: a seeded sample of that many sentences; None: all),
    synthetic text, negatives and lone cells, augmented and shuffled."""
    splits = corpus_splits(ner)
    base = [*splits["conll_train"], *splits["cluener_train"], *splits["resume_train"]]
    if corpus_examples is not None and corpus_examples < len(base):
        base = random.Random(seed).sample(base, corpus_examples)
    extra = (synthetic(synthetic_per_language, seed, "train") + negatives(negatives_per_language, seed)
             + cells(cells_count, seed))
    examples = list(augment(base, seed)) + list(augment(extra, seed + 7))
    random.Random(seed).shuffle(examples)
    return examples


def dev_examples(seed: int = 99, synthetic_per_language: int = 500, ner: Path = NER) -> dict[str, list[Example]]:
    splits = corpus_splits(ner)
    synthetic_dev = synthetic(synthetic_per_language, seed, "dev")
    return {
        "conll_valid": splits["conll_valid"],
        "cluener_dev": splits["cluener_dev"],
        "resume_dev": splits["resume_dev"],
        "synthetic_en_dev": [e for e in synthetic_dev if e.source.startswith("synthetic_en")],
        "synthetic_zh_dev": [e for e in synthetic_dev if e.source.startswith("synthetic_zh")],
    }


def split_dev(dev: dict[str, list[Example]]) -> tuple[dict[str, list[Example]], dict[str, list[Example]]]:
    """Each dev split cut in two halves by content (salted, so it is independent of how the split was drawn):
    thresholds are picked on the first, the model is checked on the second (the product's quality gate), so
    the checked figure is not one the picking saw."""
    check = {name: [e for e in examples if held_out("check\x1f" + e.text, 0.5)] for name, examples in dev.items()}
    pick = {name: [e for e in examples if not held_out("check\x1f" + e.text, 0.5)] for name, examples in dev.items()}
    return pick, check


def sample_each(splits: dict[str, list[Example]], per_split: int | None, seed: int = 99) -> dict[str, list[Example]]:
    """A seeded sample of at most ``per_split`` examples of each split (None: all of them)."""
    return {name: examples if per_split is None or per_split >= len(examples)
            else random.Random(seed).sample(examples, per_split) for name, examples in splits.items()}
