"""The chat / instruction set: conversations in the messages format, built from sanitized documents.

- FAQ pages (knowledge base): each question paragraph (ends with ? or ？) and the answer paragraphs after it,
  up to a ``Source:`` line or the next question → one user → assistant exchange.
- Conversations carried by tickets (``attributes.conversation``, e.g. CrossWOZ user/assistant turns).
- Service records written as speaker-labelled lines (客户: … / 客服: …, Customer: … / Agent: …).

Each example starts with a system prompt in its language; loss is later taken on assistant turns only.
Examples are de-duplicated by content; the split key is the first user turn, so the same question never sits
in two splits."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

import polars as pl

from waterworks.models.chat_format import SYSTEM_PROMPTS

USER_LABELS = ("客户", "用户", "顾客", "客人", "Customer", "User", "Client")
ASSISTANT_LABELS = ("客服", "坐席", "客服人员", "Agent", "Assistant", "Support")
_SPEAKER = re.compile(r"^\s*(?P<who>" + "|".join(sorted(USER_LABELS + ASSISTANT_LABELS, key=len, reverse=True))
                      + r")\s*[:：]\s*(?P<text>.+)$")
_QUESTION_END = ("?", "？")
_SOURCE_LINE = re.compile(r"^\s*\*?\s*(source|来源|出处)\s*[:：]", re.IGNORECASE)
MAX_QUESTION_CHARS = 400

CHAT_SCHEMA = {"example_id": pl.String, "kind": pl.String, "source_id": pl.String, "doc_id": pl.String,
               "language": pl.String, "messages": pl.String, "turns": pl.Int64, "split_key": pl.String}


def system_message(language: str | None) -> dict:
    lang = "zh" if (language or "").startswith("zh") else "en"
    return {"role": "system", "content": SYSTEM_PROMPTS[lang]}


def faq_pairs(body: str) -> Iterator[tuple[str, str]]:
    """(question, answer) pairs of an FAQ page in plain text (paragraphs separated by blank lines)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body or "") if p.strip()]
    question, answer = None, []
    for paragraph in paragraphs:
        if paragraph.endswith(_QUESTION_END) and len(paragraph) <= MAX_QUESTION_CHARS and "\n" not in paragraph:
            if question and answer:
                yield question, "\n\n".join(answer)
            question, answer = paragraph, []
        elif _SOURCE_LINE.match(paragraph):
            if question and answer:
                yield question, "\n\n".join(answer)
            question, answer = None, []
        elif question is not None:
            answer.append(paragraph)
    if question and answer:
        yield question, "\n\n".join(answer)


def speaker_turns(body: str) -> list[dict]:
    """User/assistant turns of a speaker-labelled transcript; consecutive lines of one speaker are joined."""
    turns: list[dict] = []
    for line in (body or "").splitlines():
        match = _SPEAKER.match(line)
        if not match:
            continue
        role = "user" if match["who"] in USER_LABELS else "assistant"
        text = match["text"].strip()
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n" + text
        else:
            turns.append({"role": role, "content": text})
    return turns


def _normalise_turns(turns: list[dict]) -> list[dict]:
    """Start at the first user turn, end at the last assistant turn, alternate strictly (merge repeats)."""
    out: list[dict] = []
    for turn in turns:
        role = {"user": "user", "assistant": "assistant", "system": None}.get(turn.get("role"))
        content = (turn.get("content") or "").strip()
        if role is None or not content or (not out and role != "user"):
            continue
        if out and out[-1]["role"] == role:
            out[-1] = {"role": role, "content": out[-1]["content"] + "\n" + content}
        else:
            out.append({"role": role, "content": content})
    while out and out[-1]["role"] != "assistant":
        out.pop()
    return out


def conversation_of(attributes: str | None) -> list[dict]:
    """Turns carried in a ticket's attributes JSON (``conversation``: a list or a JSON string of one)."""
    if not attributes:
        return []
    try:
        value = json.loads(attributes).get("conversation")
        if isinstance(value, str):
            value = json.loads(value)
    except (json.JSONDecodeError, AttributeError):
        return []
    return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []


def chat_examples(documents: pl.DataFrame) -> pl.DataFrame:
    """Chat examples from sanitized documents (columns doc_id, source_id, doc_kind, body, attributes,
    language)."""
    rows, seen = [], set()

    def add(kind: str, doc: dict, turns: list[dict]) -> None:
        turns = _normalise_turns(turns)
        if len(turns) < 2:
            return
        messages = [system_message(doc.get("language")), *turns]
        encoded = json.dumps(messages, ensure_ascii=False, sort_keys=True)
        example_id = hashlib.sha256(encoded.encode()).hexdigest()
        if example_id in seen:
            return
        seen.add(example_id)
        rows.append({"example_id": example_id, "kind": kind, "source_id": doc["source_id"], "doc_id": doc["doc_id"],
                     "language": doc.get("language") or "und", "messages": encoded, "turns": len(turns),
                     "split_key": turns[0]["content"]})

    for doc in documents.iter_rows(named=True):
        conversation = conversation_of(doc.get("attributes"))
        if conversation:
            add("dialogue", doc, conversation)
            continue
        turns = speaker_turns(doc.get("body"))
        if len(turns) >= 2:
            add("dialogue", doc, turns)
            continue
        for question, answer in faq_pairs(doc.get("body")):
            add("faq", doc, [{"role": "user", "content": question}, {"role": "assistant", "content": answer}])
    return pl.DataFrame(rows, schema=CHAT_SCHEMA)
