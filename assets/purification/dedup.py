"""Exact and near-duplicate detection, vectorized (polars for tokens, numpy for MinHash and LSH).

* The dedup key of a document is its token sequence (``tokens.TOKEN_PATTERN``: words, single CJK characters)
  after case folding, taken from the Simplified conversion of Chinese text, so that case, punctuation,
  spacing and Traditional/Simplified script do not hide a copy.
* Exact duplicates share the hash of that key.
* Near duplicates: shingles are n consecutive tokens (word n-grams for Latin scripts, character n-grams for
  CJK; a document shorter than n tokens is one shingle), hashed; a MinHash signature of ``bands × rows``
  values per document; LSH buckets documents by each band; candidates sharing a bucket are confirmed when
  their estimated Jaccard similarity reaches ``threshold``; clusters are the connected components.
* One representative per cluster: the first document in the given order (callers sort deterministically).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from .config import DedupConfig
from .tokens import TOKEN_PATTERN

_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_POLY = np.uint64(0x100000001B3)
_SHINGLES_PER_CHUNK = 400_000
CJK_LANGUAGES = ("zh", "ja")


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijective 64-bit mix (a copy; the input is left as it is)."""
    x = x ^ (x >> np.uint64(30))
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def key_tokens(text: pl.Expr) -> pl.Expr:
    """The dedup key: lower-cased tokens (list of strings)."""
    return text.fill_null("").str.to_lowercase().str.extract_all(TOKEN_PATTERN)


@dataclass
class TokenStream:
    """All documents' token hashes concatenated, with each document's offset and length, and the hash of each
    document's whole token sequence (its exact-duplicate key)."""

    hashes: np.ndarray   # uint64, one per token
    starts: np.ndarray   # int64, per document
    lengths: np.ndarray  # int64, per document
    keys: np.ndarray     # uint64, per document

    @classmethod
    def from_texts(cls, texts: pl.Series, seed: int) -> TokenStream:
        tokens = pl.DataFrame({"t": texts}).select(key_tokens(pl.col("t")).alias("tok"))
        per_doc = tokens.select(pl.col("tok").list.len().alias("n"),
                                pl.col("tok").list.join("\x1f").hash(seed).alias("key"))
        lengths = per_doc.get_column("n").to_numpy().astype(np.int64)
        flat = tokens.select(pl.col("tok").explode(empty_as_null=False).drop_nulls().hash(seed)).to_series()
        starts = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        return cls(flat.to_numpy().astype(np.uint64, copy=False), starts, lengths,
                   per_doc.get_column("key").to_numpy().astype(np.uint64, copy=False))


def shingle_hashes(stream: TokenStream, ngram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(shingle hash, document index) for every shingle; ``ngram`` is the shingle size per document. A document
    shorter than its n is one shingle of all its tokens."""
    t, lengths, starts = stream.hashes, stream.lengths, stream.starts
    if len(t) == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    doc = np.repeat(np.arange(len(lengths)), lengths)
    hashes, docs = [], []
    for n in np.unique(ngram):
        # Rolling polynomial hash of n consecutive tokens at every position, in place (no temporaries).
        acc = t.copy()
        for j in range(1, int(n)):
            acc[:-j] *= _POLY
            acc[:-j] += t[j:]
        long_docs = np.flatnonzero((ngram == n) & (lengths >= n))
        # Valid starts of a document: start .. start + length - n.
        counts = lengths[long_docs] - n + 1
        first = np.repeat(starts[long_docs] - np.cumsum(counts) + counts, counts)
        positions = first + np.arange(counts.sum())
        hashes.append(acc[positions])
        docs.append(doc[positions])
        for d in np.flatnonzero((ngram == n) & (lengths > 0) & (lengths < n)):  # short documents: rare
            h = int(t[starts[d]])
            for token in t[starts[d] + 1:starts[d] + lengths[d]].tolist():
                h = (h * int(_POLY) + token) & 0xFFFFFFFFFFFFFFFF  # the same wrap-around as the numpy path
            hashes.append(np.array([h], dtype=np.uint64))
            docs.append(np.array([d]))
    return _splitmix(np.concatenate(hashes)), np.concatenate(docs)


def minhash_signatures(stream: TokenStream, ngram: np.ndarray, config: DedupConfig,
                       eligible: np.ndarray | None = None) -> np.ndarray:
    """(documents × bands·rows) uint32 MinHash signatures with K independent hash functions; documents without
    tokens or not ``eligible`` get all-max values."""
    n_docs, k = len(stream.lengths), config.num_perm
    rng = np.random.default_rng(config.seed)
    a = (rng.integers(1, 2**32, size=k, dtype=np.uint64) | np.uint64(1)).astype(np.uint32)
    b = rng.integers(0, 2**32, size=k, dtype=np.uint64).astype(np.uint32)
    signatures = np.full((n_docs, k), np.iinfo(np.uint32).max, dtype=np.uint32)
    shingles, doc = shingle_hashes(stream, ngram)
    if eligible is not None:
        keep = eligible[doc]
        shingles, doc = shingles[keep], doc[keep]
    folded = (shingles ^ (shingles >> np.uint64(32))).astype(np.uint32)
    if len(folded) == 0:
        return signatures
    # Chunks of whole documents, so each document's minimum is taken in one reduce.
    bounds = np.flatnonzero(np.diff(doc)) + 1
    doc_starts = np.concatenate([[0], bounds])
    cut_points = doc_starts[np.searchsorted(doc_starts, np.arange(0, len(folded), _SHINGLES_PER_CHUNK))]
    cut_points = np.unique(np.append(cut_points, len(folded)))
    for lo, hi in zip(cut_points[:-1], cut_points[1:], strict=True):
        values = np.multiply.outer(folded[lo:hi], a)
        values += b
        local = doc_starts[(doc_starts >= lo) & (doc_starts < hi)] - lo
        signatures[doc[lo + local]] = np.minimum.reduceat(values, local, axis=0)
    return signatures


_MAX32 = np.uint32(0xFFFFFFFF)
_DENSIFY_ATTEMPTS = 256


def one_permutation_signatures(stream: TokenStream, ngram: np.ndarray, config: DedupConfig,
                               eligible: np.ndarray | None = None) -> np.ndarray:
    """Densified one-permutation MinHash (Li, Owen & Zhang 2012; optimal densification, Shrivastava 2017):
    each shingle is hashed once; its high bits choose one of ``bands × rows`` bins and each bin keeps its
    minimum low bits. An empty bin (short documents) copies the bin that a fixed pseudo-random probe sequence
    of that bin reaches first among the filled ones — the same sequence for every document, so similar
    documents borrow alike. Estimates Jaccard similarity like K independent permutations at about 1/K of the
    work. Documents not ``eligible`` (and those without tokens) keep all-max values."""
    n_docs, k = len(stream.lengths), config.num_perm
    shingles, doc = shingle_hashes(stream, ngram)
    if eligible is not None:
        keep = eligible[doc]
        shingles, doc = shingles[keep], doc[keep]
    mixed = shingles ^ _splitmix(np.array([config.seed], dtype=np.uint64))[0]  # shingle hashes are mixed already
    bins = (((mixed >> np.uint64(32)) * np.uint64(k)) >> np.uint64(32)).astype(np.int64)
    values = (mixed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    signatures = np.full(n_docs * k, _MAX32, dtype=np.uint32)
    np.minimum.at(signatures, doc * k + bins, values)
    signatures = signatures.reshape(n_docs, k)
    filled = signatures != _MAX32
    rows = np.flatnonzero(~filled.all(axis=1) & filled.any(axis=1))
    probes = np.random.default_rng(config.seed).integers(0, k, size=(_DENSIFY_ATTEMPTS, k))
    for lo in range(0, len(rows), 20_000):  # row blocks: bounded memory
        block = rows[lo:lo + 20_000]
        part, part_filled = signatures[block], filled[block]
        out, todo = part.copy(), ~part_filled
        for attempt in range(_DENSIFY_ATTEMPTS):
            live = np.flatnonzero(todo.any(axis=1))
            if len(live) == 0:
                break
            probe = probes[attempt]
            hit = todo[live] & part_filled[live][:, probe]
            sub = out[live]
            sub[hit] = part[live][:, probe][hit]
            out[live] = sub
            todo[live] &= ~hit
        signatures[block] = out  # a bin still empty after every probe (a document of one shingle) stays max
    return signatures


SCHEMES = {"one_permutation": one_permutation_signatures, "permutations": minhash_signatures}


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(documents × bands) uint64: each document's LSH bucket in each band."""
    keys = np.zeros((len(signatures), bands), dtype=np.uint64)
    for band in range(bands):
        block = signatures[:, band * rows:(band + 1) * rows].astype(np.uint64)
        key = np.zeros(len(signatures), dtype=np.uint64)
        for r in range(rows):
            key = key * _POLY + block[:, r]
        keys[:, band] = key
    return keys


@dataclass
class BandRows:
    """LSH membership in long form: document ``doc`` falls in bucket ``bucket`` of band ``band`` (one row per
    document and band) — the rows of the band index, and what the candidate search groups by."""

    band: np.ndarray    # int16
    bucket: np.ndarray  # uint64
    doc: np.ndarray     # int64

    @classmethod
    def of(cls, signatures: np.ndarray, docs: np.ndarray, bands: int, rows: int) -> BandRows:
        """The band rows of documents ``docs`` whose signatures are ``signatures`` (one row each)."""
        return cls.from_keys(band_keys(signatures, bands, rows), docs)

    @classmethod
    def from_keys(cls, keys: np.ndarray, docs: np.ndarray) -> BandRows:
        """The band rows of documents ``docs`` from their (documents × bands) band keys."""
        bands = keys.shape[1]
        return cls(np.repeat(np.arange(bands, dtype=np.int16), len(docs)), keys.T.reshape(-1),
                   np.tile(np.asarray(docs, dtype=np.int64), bands))

    @classmethod
    def empty(cls) -> BandRows:
        return cls(np.zeros(0, np.int16), np.zeros(0, np.uint64), np.zeros(0, np.int64))

    @classmethod
    def concat(cls, parts: list[BandRows]) -> BandRows:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("band", "bucket", "doc")))

    def __len__(self) -> int:
        return len(self.doc)

    def take(self, mask: np.ndarray) -> BandRows:
        return BandRows(self.band[mask], self.bucket[mask], self.doc[mask])


@dataclass
class BandEdges:
    """Candidate (or confirmed) pairs ``u < v``, each with the (band, bucket) whose chain linked them."""

    band: np.ndarray
    bucket: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @classmethod
    def empty(cls) -> BandEdges:
        return cls(np.zeros(0, np.int16), np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64))

    @classmethod
    def concat(cls, parts: list[BandEdges]) -> BandEdges:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("band", "bucket", "u", "v")))

    def __len__(self) -> int:
        return len(self.u)

    def take(self, mask: np.ndarray) -> BandEdges:
        return BandEdges(self.band[mask], self.bucket[mask], self.u[mask], self.v[mask])


def chain_rows(rows: BandRows) -> BandEdges:
    """Within each (band, bucket), its documents linked in document order — a chain, not every pair (the
    components are the same, and a bucket's chain depends only on its members, so the band index can redo the
    chains of the buckets a run touched and keep the others)."""
    order = np.lexsort((rows.doc, rows.bucket, rows.band))
    band, bucket, doc = rows.band[order], rows.bucket[order], rows.doc[order]
    same = (band[1:] == band[:-1]) & (bucket[1:] == bucket[:-1])
    return BandEdges(band[1:][same], bucket[1:][same], doc[:-1][same], doc[1:][same])


def similar(left: np.ndarray, right: np.ndarray, threshold: float) -> np.ndarray:
    """Per pair of signature rows: whether their estimated Jaccard similarity (the share of equal values)
    reaches ``threshold``."""
    if len(left) == 0:
        return np.zeros(0, bool)
    return (left == right).mean(axis=1) >= threshold


PairFinder = Callable[[BandRows], BandEdges]
Labeller = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
NearPairs = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # eligible mask → confirmed pairs (u, v)


def lsh_pairs(signatures: np.ndarray, bands: int, rows: int, threshold: float,
              eligible: np.ndarray, candidates: PairFinder = chain_rows) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (u, v) that share a band bucket and whose signatures agree on ≥ threshold of their values, all
    documents at once (no index). ``candidates`` finds the bucket-sharing pairs from the band rows (in process,
    or a distributed shuffle)."""
    docs = np.flatnonzero(eligible)
    if len(docs) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    found = candidates(BandRows.of(signatures[docs], docs, bands, rows))
    if len(found) == 0:
        return found.u, found.v
    pairs = np.unique(np.stack([found.u, found.v], axis=1), axis=0)
    u, v = pairs[:, 0], pairs[:, 1]
    keep = similar(signatures[u], signatures[v], threshold)
    return u[keep], v[keep]


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected-component label per node, the label being the smallest node index in the component."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    return first[labels]


@dataclass
class DedupResult:
    representative: np.ndarray  # per document: index of its cluster's representative (itself if unique)
    reason: list[str | None]    # None (kept), "exact_duplicate" or "near_duplicate"
    cluster_size: np.ndarray

    @property
    def kept(self) -> np.ndarray:
        return self.representative == np.arange(len(self.representative))


@dataclass
class Fingerprints:
    """What clustering needs of each document, computed per document (so per shard): its exact key, its
    token count and its MinHash signature (all-max where it is too short for near-dedup)."""

    keys: np.ndarray        # uint64
    lengths: np.ndarray     # int64 (tokens)
    signatures: np.ndarray  # (documents × bands·rows) uint32

    @classmethod
    def of(cls, texts: pl.Series, cjk: np.ndarray, config: DedupConfig) -> Fingerprints:
        stream = TokenStream.from_texts(texts, config.seed)
        if config.near and len(texts):
            ngram = np.where(cjk, config.cjk_ngram, config.latin_ngram).astype(np.int64)
            signatures = SCHEMES[config.scheme](stream, ngram, config, stream.lengths >= config.near_min_tokens)
        else:
            signatures = np.zeros((len(texts), 0), dtype=np.uint32)
        return cls(stream.keys, stream.lengths, signatures)

    def to_arrow(self):
        """As columns: ``key``, ``length`` and ``signature`` (the row's values as one fixed-width binary)."""
        import pyarrow as pa

        n, width = self.signatures.shape
        signatures = np.ascontiguousarray(self.signatures, dtype=np.uint32)
        column = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 * width), n, [None, pa.py_buffer(signatures)]) \
            if width else pa.nulls(n, pa.null())
        return pa.table({"key": pa.array(self.keys, pa.uint64()), "length": pa.array(self.lengths, pa.int64()),
                         "signature": column})

    @classmethod
    def from_arrow(cls, table, num_perm: int) -> Fingerprints:
        n = table.num_rows
        keys = table.column("key").to_numpy().astype(np.uint64)
        lengths = table.column("length").to_numpy().astype(np.int64)
        if num_perm and n:
            column = table.column("signature").combine_chunks()
            values = np.frombuffer(column.buffers()[1], dtype=np.uint32, count=n * num_perm,
                                   offset=column.offset * 4 * num_perm)
            signatures = values.reshape(n, num_perm).copy()
        else:
            signatures = np.zeros((n, num_perm), dtype=np.uint32)
        return cls(keys, lengths, signatures)

    @classmethod
    def concat(cls, parts: list[Fingerprints], num_perm: int) -> Fingerprints:
        if not parts:
            return cls(np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros((0, num_perm), np.uint32))
        return cls(np.concatenate([p.keys for p in parts]), np.concatenate([p.lengths for p in parts]),
                   np.concatenate([p.signatures for p in parts]))


def cluster(keys: np.ndarray, lengths: np.ndarray, config: DedupConfig, near_pairs: NearPairs | None = None,
            label: Labeller = components) -> DedupResult:
    """Clusters of documents given in priority order (the first of a cluster is kept): exact keys, then the
    near-duplicate pairs among the documents that are not exact copies and are long enough (``near_pairs``
    given that eligibility: LSH over all signatures, or the band index), then connected components
    (``label``: in process, or on the cluster)."""
    n = len(keys)
    index = np.arange(n)
    exact_rep = index.copy()
    if config.exact and n:
        first = pl.DataFrame({"k": keys, "i": index}).group_by("k").agg(pl.col("i").min().alias("first"))
        exact_rep = (pl.DataFrame({"k": keys}).join(first, on="k", how="left", maintain_order="left")
                     .get_column("first").to_numpy())
    u, v = exact_rep[exact_rep != index], index[exact_rep != index]
    if config.near and n and near_pairs is not None:
        nu, nv = near_pairs((exact_rep == index) & (lengths >= config.near_min_tokens))
        u, v = np.concatenate([u, nu]), np.concatenate([v, nv])
    representative = label(n, u, v) if n else index
    reason: list[str | None] = [None] * n
    for i in np.flatnonzero(representative != index):
        reason[i] = "exact_duplicate" if exact_rep[i] != i else "near_duplicate"
    sizes = np.bincount(representative, minlength=n)[representative] if n else representative
    return DedupResult(representative, reason, sizes)


def cluster_prints(prints: Fingerprints, config: DedupConfig, candidates: PairFinder = chain_rows,
                   label: Labeller = components) -> DedupResult:
    """``cluster`` with every signature in hand: LSH over all of them, no index."""
    def near_pairs(eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return lsh_pairs(prints.signatures, config.bands, config.rows, config.threshold, eligible, candidates)

    return cluster(prints.keys, prints.lengths, config, near_pairs, label)


def find_duplicates(texts: pl.Series, cjk: np.ndarray, config: DedupConfig) -> DedupResult:
    """Cluster ``texts`` (already in priority order: the first of a cluster is kept). ``cjk`` marks documents
    shingled by characters rather than words."""
    return cluster_prints(Fingerprints.of(texts, cjk, config), config)
