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

from .purification.dedup import chain_pairs

ENGINES = ("local", "ray")


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
    name: str = "local"

    def map(self, task: Callable[..., ShardTask], args: tuple, shards: list[dict]) -> list:
        runner = task(*args)
        return [runner(shard) for shard in shards]

    def candidate_pairs(self, keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return chain_pairs(keys, docs)


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
    return pa.table({"u": pa.array(docs[:-1]), "v": pa.array(docs[1:])})


@dataclass(frozen=True)
class RayEngine:
    """Shards on a Ray cluster through Ray Data. ``address``: a running cluster (``ray://…`` or
    ``host:port``); none: the cluster this process is already connected to (dagster-ray's resource), else a
    local Ray started here with ``workers`` CPUs."""

    address: str | None = None
    workers: int = 2
    shards: int = 0  # 0: one shard per landing file
    name: str = "ray"

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

    def candidate_pairs(self, keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(docs) < 2:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        import pyarrow as pa
        import ray

        self.connect()
        configure_ray_data()
        bands = keys.shape[1]
        table = pa.table({"band": np.repeat(np.arange(bands, dtype=np.int64), len(docs)),
                          "bucket": keys.T.reshape(-1), "doc": np.tile(docs.astype(np.int64), bands)})
        dataset = ray.data.from_arrow(table).groupby(["band", "bucket"]).map_groups(
            _chain_group, batch_format="pyarrow")
        pairs = dataset.to_arrow_refs()
        parts = [t for t in ray.get(pairs) if t.num_rows]
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        merged = pa.concat_tables(parts)
        return merged.column("u").to_numpy().astype(np.int64), merged.column("v").to_numpy().astype(np.int64)


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


Engine = LocalEngine | RayEngine


def make_engine(kind: str = "local", shards: int = 1, workers: int = 2, address: str | None = None) -> Engine:
    if kind == "local":
        return LocalEngine(shards=max(1, shards))
    if kind == "ray":
        return RayEngine(address=address or None, workers=max(1, workers), shards=max(0, shards))
    raise ValueError(f"unknown engine {kind!r}; known: {', '.join(ENGINES)}")


def shard_runs(items: Sequence, engine: Engine) -> list[list]:
    """``items`` (files, in order) cut into the engine's shards: ``local`` into ``shards`` runs, ``ray`` one per
    item unless ``shards`` says how many."""
    parts = engine.shards if engine.shards else len(items)
    return split_evenly(items, parts)
