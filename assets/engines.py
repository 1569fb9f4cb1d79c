"""Where shard work runs: in this process (``local``) or on a Ray cluster (``ray``), one setting
(``WATERWORKS_ENGINE``). Results do not depend on the engine nor on how many shards the work is cut into: the
stage functions give each shard only what is decided per row, and decide everything global (duplicate
clusters, column types) from mergeable summaries of all shards.

A shard task is a class built once per worker (it loads what it needs there: the PII engine, the language
detector) and called once per shard with a small dict; it reads its rows from the lake and writes its output
there itself, and returns a small picklable result (counts, hashes, signatures), so the bulk of the data never
travels through the driver.

``ray`` uses Ray Data: the shard descriptors are a dataset, ``map_batches`` runs the task class on a pool of
stateful actors (one batch = one shard), and the LSH candidate search of near-dedup is a ``groupby`` over
(band, bucket) — the distributed shuffle. Ray runs with usage statistics and the dashboard off.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .purification import stars as star
from .purification.dedup import BandEdges, BandRows, chain_rows, components

ENGINES = ("local", "ray")
# The largest unit of work: a file of more rows is cut into row ranges ("pieces") of this many rows, so what one
# worker holds is bounded by this, not by the largest landing file (any value gives the same tables).
PIECE_ROWS = 10_000


def worker_node() -> str:
    """The Ray node this code runs on (in a Ray worker), else ``local``."""
    import sys

    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            return ray.get_runtime_context().get_node_id()
    return "local"


class ShardTask(Protocol):
    def __call__(self, shard: dict) -> Any: ...


def split_evenly(items: Sequence, parts: int) -> list[list]:
    """``items`` cut into at most ``parts`` contiguous runs of near-equal length (order kept, none empty)."""
    parts = max(1, min(parts, len(items))) if items else 1
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        if stop > start:
            out.append(list(items[start:stop]))
        start = stop
    return out


@dataclass(frozen=True)
class LocalEngine:
    """Shards one after the other in this process: no Ray import, today's speed on a small estate."""

    shards: int = 1  # how many shards the work is cut into (any number gives the same tables)
    piece_rows: int = PIECE_ROWS
    name: str = "local"

    def map(self, task: Callable[..., ShardTask], args: tuple, shards: list[dict]) -> list:
        runner = task(*args)
        return [runner(shard) for shard in shards]

    def candidate_pairs(self, rows: BandRows) -> BandEdges:
        return chain_rows(rows)

    def components(self, n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return components(n, u, v)


class _RayShardActor:
    """A Ray Data actor: builds the task once (per worker), then runs it on each batch of one shard."""

    def __init__(self, payload: bytes) -> None:
        task, args = pickle.loads(payload)
        self.task = task(*args)

    def __call__(self, batch):
        import pyarrow as pa

        indices = batch.column("index").to_pylist()
        shards = [pickle.loads(b) for b in batch.column("shard").to_pylist()]
        results = [pickle.dumps(self.task(shard), protocol=pickle.HIGHEST_PROTOCOL) for shard in shards]
        return pa.table({"index": pa.array(indices, pa.int64()), "result": pa.array(results, pa.binary())})


def _chain_group(group):
    """One (band, bucket) group of the LSH shuffle: its documents chained in document order."""
    import pyarrow as pa

    docs = np.sort(np.asarray(group.column("doc").to_numpy(), dtype=np.int64))
    n = max(0, len(docs) - 1)
    return pa.table({"band": pa.array(group.column("band").to_numpy()[:n], pa.int16()),
                     "bucket": pa.array(group.column("bucket").to_numpy()[:n], pa.uint64()),
                     "u": pa.array(docs[:-1]), "v": pa.array(docs[1:])})


def _edges_keyed(batch, parts: int, step: str):
    """Canonical edges (hi, lo) → rows keyed by the node whose partition handles them in ``step``: both ends
    for large-star (``leaf`` marks the row keyed by the larger end), the larger end for small-star."""
    import pyarrow as pa

    hi, lo = batch.column("hi").to_numpy(), batch.column("lo").to_numpy()
    if step == "small":
        return pa.table({"part": hi % parts, "key": hi, "other": lo})
    key, other = star.both_directions(hi, lo)
    leaf = np.r_[np.ones(len(hi), bool), np.zeros(len(lo), bool)]
    return pa.table({"part": key % parts, "key": key, "other": other, "leaf": leaf})


def _star_group(group, step: str):
    """One partition of a star pass. Large-star's rows are those the star check needs too: its output carries
    how many of the partition's nodes broke the star shape *before* the pass (``bad``, on its first row)."""
    import pyarrow as pa

    key, other = group.column("key").to_numpy(), group.column("other").to_numpy()
    hi, lo = (star.large_star if step == "large" else star.small_star)(key, other)
    out = {"hi": pa.array(hi, pa.int64()), "lo": pa.array(lo, pa.int64())}
    if step == "large":
        bad = np.zeros(len(hi), np.int64)
        violations = star.star_violations(key, other, group.column("leaf").to_numpy(False))
        if len(hi) == 0:  # a partition of leaves only: its count rides on a self-loop, which any pass drops
            hi, lo, bad = np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64)
            out = {"hi": pa.array(hi), "lo": pa.array(lo)}
        bad[0] = violations
        out["bad"] = pa.array(bad)
    return pa.table(out)


def _sum_bad(batch):
    import pyarrow as pa
    import pyarrow.compute as pc

    return pa.table({"bad": [pc.sum(batch.column("bad")).as_py() or 0]})


STAR_ROUNDS = 100  # large/small-star converges in O(log² n) rounds; a bound, not a tuning knob


@dataclass(frozen=True)
class RayEngine:
    """Shards on a Ray cluster through Ray Data. ``address``: a running cluster (``ray://…`` or
    ``host:port``); none: the cluster this process is already connected to (dagster-ray's resource), else a
    local Ray started here with ``workers`` CPUs."""

    address: str | None = None
    workers: int = 2
    shards: int = 0  # 0: one shard per piece (a landing file, or a row range of a large one)
    piece_rows: int = PIECE_ROWS
    name: str = "ray"
    driver_components: int = 30_000_000  # nodes + edges the driver labels itself (scipy); beyond: on the cluster

    def connect(self) -> None:
        import ray

        if ray.is_initialized():
            return
        ray.init(address=self.address, **ray_init_options(self.workers if self.address is None else None))

    def map(self, task: Callable[..., ShardTask], args: tuple, shards: list[dict]) -> list:
        if not shards:
            return []
        import ray

        self.connect()
        configure_ray_data()
        payload = pickle.dumps((task, args), protocol=pickle.HIGHEST_PROTOCOL)
        items = [{"index": i, "shard": pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL)} for i, s in enumerate(shards)]
        dataset = ray.data.from_items(items, override_num_blocks=len(items))
        out = dataset.map_batches(_RayShardActor, fn_constructor_args=(payload,), batch_size=1,
                                  batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(
                                      min_size=1, max_size=max(1, min(self.workers, len(shards)))),
                                  num_cpus=1)
        rows = sorted(out.take_all(), key=lambda r: r["index"])
        if len(rows) != len(shards):
            raise RuntimeError(f"ray engine: {len(rows)} results for {len(shards)} shards")
        return [pickle.loads(r["result"]) for r in rows]

    def candidate_pairs(self, rows: BandRows) -> BandEdges:
        if len(rows) < 2:
            return BandEdges.empty()
        import pyarrow as pa
        import ray

        self.connect()
        configure_ray_data()
        table = pa.table({"band": pa.array(rows.band, pa.int16()), "bucket": pa.array(rows.bucket, pa.uint64()),
                          "doc": pa.array(rows.doc, pa.int64())})
        dataset = ray.data.from_arrow(table).groupby(["band", "bucket"],
                                                     num_partitions=self.shuffle_partitions()).map_groups(
            _chain_group, batch_format="pyarrow")
        parts = [t for t in ray.get(dataset.to_arrow_refs()) if t.num_rows]
        if not parts:
            return BandEdges.empty()
        merged = pa.concat_tables(parts)
        return BandEdges(*(merged.column(c).to_numpy().astype(t) for c, t in
                           (("band", np.int16), ("bucket", np.uint64), ("u", np.int64), ("v", np.int64))))

    def shuffle_partitions(self) -> int:
        """Partitions of a shuffle: twice the cluster's CPUs (Ray Data's default of 200 is for large clusters;
        on a few CPUs each empty partition costs a task)."""
        import ray

        return max(1, 2 * int(ray.cluster_resources().get("CPU", self.workers)))

    def components(self, n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Connected-component labels (the smallest node of each component): scipy on the driver up to
        ``driver_components`` nodes + edges, else large/small-star rounds on the cluster, each pass a Ray Data
        shuffle of the edges by node (``purification/components.py``)."""
        if n + len(u) <= self.driver_components:
            return components(n, u, v)
        import pyarrow as pa
        import ray

        self.connect()
        configure_ray_data()
        hi, lo = star.canonical(np.asarray(u), np.asarray(v))
        if len(hi) == 0:
            return np.arange(n, dtype=np.int64)
        edges = ray.data.from_arrow(pa.table({"hi": pa.array(hi, pa.int64()), "lo": pa.array(lo, pa.int64())}))
        parts = self.shuffle_partitions()

        def step(dataset, name: str):
            return dataset.map_batches(_edges_keyed, fn_kwargs={"parts": parts, "step": name},
                                       batch_format="pyarrow").groupby("part", num_partitions=parts).map_groups(
                _star_group, fn_kwargs={"step": name}, batch_format="pyarrow")

        for _ in range(STAR_ROUNDS):
            large = step(edges, "large").materialize()
            if not sum(row["bad"] for row in large.map_batches(_sum_bad, batch_format="pyarrow").take_all()):
                # the edges it read were stars already
                break
            edges = step(large.drop_columns(["bad"]), "small").materialize()
        else:
            raise RuntimeError(f"connected components did not converge in {STAR_ROUNDS} rounds")
        tables = [t for t in ray.get(edges.to_arrow_refs()) if t.num_rows]
        if not tables:
            return np.arange(n, dtype=np.int64)
        stars = pa.concat_tables(tables)
        hi, lo = star.canonical(stars.column("hi").to_numpy(), stars.column("lo").to_numpy())
        return star.labels_from_stars(n, hi, lo)


def ray_init_options(num_cpus: int | None) -> dict:
    """Options for a Ray started here: no dashboard, no usage statistics, quiet, workers on one thread each."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    options: dict = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False,
                     "runtime_env": {"env_vars": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                                  "TOKENIZERS_PARALLELISM": "false",
                                                  "RAY_USAGE_STATS_ENABLED": "0"}}}
    if num_cpus is not None:
        options["num_cpus"] = num_cpus
    return options


def configure_ray_data() -> None:
    import logging

    import ray

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # one INFO line per dataset otherwise
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    # Shuffles (the LSH candidates' groupby, the star rounds) as sort-based pull shuffles, Ray's task-based
    # shuffle: measured on 2 CPUs, a star round's groupby took ~5 s with it, ~20 s with the actor-based hash
    # shuffle and ~50 s with the default (hash shuffle v2), whose aggregator actors start per operation.
    context.shuffle_strategy = ray.data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED


Engine = LocalEngine | RayEngine


def make_engine(kind: str = "local", shards: int = 1, workers: int = 2, address: str | None = None,
                driver_components: int = RayEngine.driver_components, piece_rows: int = PIECE_ROWS) -> Engine:
    if kind == "local":
        return LocalEngine(shards=max(1, shards), piece_rows=max(1, piece_rows))
    if kind == "ray":
        return RayEngine(address=address or None, workers=max(1, workers), shards=max(0, shards),
                         driver_components=max(0, driver_components), piece_rows=max(1, piece_rows))
    raise ValueError(f"unknown engine {kind!r}; known: {', '.join(ENGINES)}")


def shard_runs(items: Sequence, engine: Engine, rows: Callable[[Any], int] | None = None) -> list[list]:
    """``items`` (pieces of files, in order) cut into the engine's shards: ``local`` into ``shards`` runs; ``ray``
    into runs of consecutive pieces of up to ``piece_rows`` rows together (``rows``: a piece's rows; a piece is
    never cut, so a large file's pieces are a shard each, and many small files share one) unless ``shards``
    says how many. Fewer shards than pieces matter: each shard costs a task, and the subject-index pass matches
    every shard against every replaced value."""
    if engine.shards or rows is None:
        return split_evenly(items, engine.shards or len(items))
    out: list[list] = []
    held = 0
    for item in items:
        size = rows(item)
        if not out or held + size > engine.piece_rows:
            out.append([])
            held = 0
        out[-1].append(item)
        held += size
    return out
