"""At ingest: records that name an erased subject (one of the ledger's keyed hashes, or the erasure marker
left in a redacted landing file) are dropped and counted, so a re-delivered file does not bring a person back."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from waterworks.governance.subjects import hashes_in

from ..lake import Lake
from .landing import ERASED
from .ledger import expired_files, tombstoned_hashes


@dataclass(frozen=True)
class Tombstones:
    hashes: frozenset[str]
    secret: bytes | None
    expired_files: frozenset[str] = frozenset()  # sha256 of landing files past retention: never ingested again

    @classmethod
    def load(cls, lake: Lake, key_loader) -> Tombstones:
        """``key_loader``: called only when the ledger has tombstones (the key is not needed otherwise)."""
        hashes = tombstoned_hashes(lake)
        return cls(hashes, key_loader().secret if hashes else None, expired_files(lake))

    @property
    def active(self) -> bool:
        return bool(self.hashes)

    def expired(self, file_sha256: str) -> bool:
        return file_sha256 in self.expired_files

    def erased(self, table: pa.Table) -> list[bool]:
        """Per row: does it hold the erasure marker or a tombstoned value (any text column)?"""
        names = [n for n in table.column_names if not n.startswith("_") and
                 (pa.types.is_string(table.schema.field(n).type) or pa.types.is_large_string(table.schema.field(n).type))]
        columns = [table.column(n).to_pylist() for n in names]
        flags = []
        for row in zip(*columns, strict=True) if columns else ([] for _ in range(table.num_rows)):
            texts = [v for v in row if v]
            marked = any(ERASED in v for v in texts)
            flags.append(marked or bool(self.secret and hashes_in(self.secret, texts, self.hashes)))
        return flags


NONE = Tombstones(frozenset(), None)
