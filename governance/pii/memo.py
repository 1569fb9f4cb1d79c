"""What the analyzer found in a text, remembered across runs, so that an incremental run analyzes only the
texts it has not seen (issue 8: one new file re-runs only what depends on it).

An entry maps (digest of the text, language) to the analyzer's findings: entity type, offsets, score and
recognizer — never the text. The analyzer is deterministic, so a remembered result equals a fresh one as long
as the analyzer is the same: the memo is valid for one **fingerprint** (engine settings, the versions of
Presidio and spaCy and of the configured models, and the source of this package's recognizers). Any change
there and the memo is simply not used.

A digest of a short value (a phone number) can be reversed by trying candidates, so the memo is kept where the
texts themselves are: in a private zone of the lake, beside the purified tables.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pyarrow as pa

from .engine import EngineConfig

_FINDING = pa.struct([("entity_type", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
                      ("score", pa.float64()), ("recognizer", pa.string())])
SCHEMA = pa.schema([("digest", pa.binary(16)), ("language", pa.string()), ("findings", pa.list_(_FINDING))])
_PACKAGES = ("presidio-analyzer", "presidio-anonymizer", "spacy", "phonenumbers")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def fingerprint(config: EngineConfig) -> str:
    """Changes whenever the analyzer could answer differently."""
    digest = hashlib.sha256()
    models = [config.english_model, config.chinese_model or "blank-zh"]
    parts = [f"threshold={config.score_threshold}", *models,
             *(f"{p}={_version(p)}" for p in (*_PACKAGES, *(m.replace("_", "-") for m in models)))]
    digest.update("\n".join(parts).encode())
    digest.update(f"detector_threshold={config.detector_threshold}".encode())
    detector = config.detector_folder
    tagger_source = Path(__file__).resolve().parents[2] / "models" / "token_tagger.py"
    files = [*sorted(Path(__file__).parent.glob("*.py")), tagger_source,
             *((detector / "tagger.json", detector / "model.safetensors") if detector else ())]
    for source in files:
        stat = source.stat()
        digest.update(source.name.encode() + _file_digest(str(source), stat.st_size, stat.st_mtime_ns))
    return digest.hexdigest()[:32]


@lru_cache(maxsize=64)
def _file_digest(path: str, size: int, mtime_ns: int) -> bytes:
    """A file's sha256, once per (path, size, mtime): the fingerprint is asked per table and run, and the
    detector's weights are megabytes."""
    del size, mtime_ns  # part of the cache key only
    return hashlib.sha256(Path(path).read_bytes()).digest()


def text_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass
class AnalysisMemo:
    """Findings per (text digest, language). ``used`` holds the entries this run asked for or added (saving
    keeps only those, so the memo follows the data and does not grow with texts long gone); ``added`` those
    this run analyzed."""
    fingerprint: str
    entries: dict[tuple[bytes, str], tuple] = field(default_factory=dict)
    used: set[tuple[bytes, str]] = field(default_factory=set)
    added: set[tuple[bytes, str]] = field(default_factory=set)

    @property
    def texts_analyzed(self) -> int:
        return len(self.added)

    @property
    def texts_remembered(self) -> int:
        """Distinct texts answered from an earlier run."""
        return len(self.used - self.added)

    def get(self, text: str, language: str) -> list | None:
        key = (text_digest(text), language)
        found = self.entries.get(key)
        if found is None:
            return None
        self.used.add(key)
        return [_result(*finding) for finding in found]

    def put(self, text: str, language: str, results: list) -> None:
        key = (text_digest(text), language)
        self.entries[key] = tuple((r.entity_type, r.start, r.end, r.score,
                                   r.recognition_metadata.get("recognizer_name", "?")) for r in results)
        self.used.add(key)
        self.added.add(key)

    def to_table(self) -> pa.Table:
        keys = sorted(self.used)
        findings = [[dict(zip(("entity_type", "start", "end", "score", "recognizer"), f, strict=True))
                     for f in self.entries[k]] for k in keys]
        return pa.table([[k[0] for k in keys], [k[1] for k in keys], findings], schema=SCHEMA)

    @classmethod
    def from_table(cls, fingerprint: str, table: pa.Table | None) -> AnalysisMemo:
        memo = cls(fingerprint)
        if table is not None:
            for digest, language, findings in zip(*(table.column(c).to_pylist() for c in SCHEMA.names), strict=True):
                memo.entries[(digest, language)] = tuple(
                    (f["entity_type"], f["start"], f["end"], f["score"], f["recognizer"]) for f in findings)
        return memo


def _result(entity_type: str, start: int, end: int, score: float, recognizer: str):
    from .presidio import RecognizerResult

    return RecognizerResult(entity_type, start, end, score, recognition_metadata={"recognizer_name": recognizer})
