"""Ground truth of a demo estate: every planted PII value (manifest.jsonl) and every file's expectations
(estate.json: record counts per source, which records and files must be quarantined and why)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Ground:
    entries: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: list[dict[str, Any]] = field(default_factory=list)

    def plant(self, pii_type: str, value: str, file: str, **location: Any) -> None:
        self.entries.append({"type": pii_type, "value": value, "file": file, "location": location})

    def plant_spans(self, spans: list[tuple[str, str, int, int]], file: str, **location: Any) -> None:
        for pii_type, value, start, end in spans:
            self.plant(pii_type, value, file, start=start, end=end, **location)

    def expect(self, relpath: str, units: dict[str, int], quarantined: list[int] | None = None,
               reason: str | None = None, file_reason: str | None = None) -> None:
        """``units``: records read per source; ``quarantined``: record indexes that must be quarantined."""
        self.files[relpath] = {"units": units, "quarantined_indexes": quarantined or [],
                               "reason": reason, "file_quarantined": file_reason}

    def duplicate(self, kind: str, members: list[tuple[str, int]]) -> None:
        """A planted duplicate group: (landing path, record index) of the original first, then its copies.
        ``kind``: exact_resend, small_edits, reordered, traditional_copy."""
        self.duplicates.append({"group": len(self.duplicates), "kind": kind,
                                "members": [{"file": f, "record": r} for f, r in members]})

    def write(self, out: Path, seed: int, scale: int) -> None:
        with open(out / "manifest.jsonl", "w", encoding="utf-8") as handle:
            for entry in self.entries:
                handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        estate = {"seed": seed, "scale": scale, "planted_values": len(self.entries),
                  "files": dict(sorted(self.files.items())), "duplicates": self.duplicates}
        (out / "estate.json").write_text(json.dumps(estate, ensure_ascii=False, indent=1, sort_keys=True),
                                         encoding="utf-8")


def fill(template: str, values: dict[str, str]) -> tuple[str, list[tuple[str, str, int, int]]]:
    """Fill ``{TYPE}`` slots and return the text with (type, value, start, end) of every slot."""
    out, spans, pos = [], [], 0
    cursor = 0
    while True:
        start = template.find("{", cursor)
        if start < 0:
            out.append(template[cursor:])
            break
        end = template.index("}", start)
        out.append(template[cursor:start])
        pos = sum(len(part) for part in out)
        kind = template[start + 1:end]
        value = values[kind]
        out.append(value)
        spans.append((kind, value, pos, pos + len(value)))
        cursor = end + 1
    return "".join(out), spans


def shift(spans: list[tuple[str, str, int, int]], offset: int) -> list[tuple[str, str, int, int]]:
    return [(k, v, s + offset, e + offset) for k, v, s, e in spans]
