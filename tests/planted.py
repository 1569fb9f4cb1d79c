"""The planted personal values of a demo estate (its ground truth), as leak tests search for them."""

import json
import re
from pathlib import Path


def searchable(value: str) -> bool:
    """Long enough not to occur by chance: 5+ characters, or 3+ with a Chinese character (names)."""
    return len(value) >= 5 or (len(value) >= 3 and re.search(r"[\u4e00-\u9fff]", value) is not None)


def planted_values(landing_dir: Path) -> set[str]:
    entries = [json.loads(line) for line in (Path(landing_dir) / "manifest.jsonl").read_text("utf-8").splitlines()]
    canaries = {e["value"] for e in entries if "canary" in e["location"]}
    return {e["value"] for e in entries if searchable(e["value"])} | canaries
