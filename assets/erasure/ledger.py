"""The erasure ledger: every erasure request and retention sweep, with what it removed where — keyed hashes and
counts, never a value. ``purified/erasure/requests.jsonl`` in the private zone (it names which hashes are
tombstoned); the compliance report shows the requests and their state."""

from __future__ import annotations

import json
import uuid

from ..lake import Lake

ZONE, LEDGER = "purified", "erasure/requests.jsonl"
COMPLETED, REBUILD_PENDING, INCOMPLETE = "completed", "erased; rebuild pending", "incomplete"


def new_request_id(kind: str) -> str:
    """A UUID (the entry's ``kind`` and ``requested_at`` say what and when; an id made of digits and dates would
    read as a phone number to the report's residual check)."""
    del kind
    return str(uuid.uuid4())


def read_ledger(lake: Lake) -> list[dict]:
    """Every entry, the latest state of each request (an update is appended with the same ``request_id``)."""
    if not lake.exists(ZONE, LEDGER):
        return []
    latest: dict[str, dict] = {}
    for line in lake.read_bytes(ZONE, LEDGER).decode("utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            latest[entry["request_id"]] = {**latest.get(entry["request_id"], {}), **entry}
    return list(latest.values())


def append(lake: Lake, entry: dict) -> dict:
    """Append one entry (the ledger is rewritten atomically: object stores have no append)."""
    old = lake.read_bytes(ZONE, LEDGER) if lake.exists(ZONE, LEDGER) else b""
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
    lake.write_bytes(ZONE, LEDGER, old + line.encode("utf-8"))
    return entry


def tombstoned_hashes(lake: Lake) -> frozenset[str]:
    """The keyed hashes of every erased subject's values: a delivery holding one of them is dropped at ingest."""
    return frozenset(h for entry in read_ledger(lake) for h in entry.get("tombstones", []))


def expired_files(lake: Lake) -> frozenset[str]:
    """Landing files (by sha256) removed by a retention sweep: not ingested again."""
    return frozenset(s for entry in read_ledger(lake) for s in entry.get("expired_files", []))
