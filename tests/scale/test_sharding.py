"""Issue 20: purification and sanitation sharded, same results. On the demo estate's raw zone (the session
plant's, ingested through Dagster), the local engine with one shard (the plant run itself, whole files), the
local engine with four shards of pieces of 50 rows (large files cut into row ranges), and the ray engine through
a Dagster materialization (dagster-ray's LocalRay, a local Ray with two worker processes, one shard per piece of
150 rows) write identical purified and sanitized tables: rows, ids, duplicate clusters, text, ledger counts,
subject index."""

import shutil

import dagster as dg
import polars as pl
import pytest

from waterworks.assets.engines import LocalEngine
from waterworks.assets.lake import Lake

# lake tables (folders of parts, compared whole: the parts differ with the shards) and single files
TABLES = ["purified/records", "purified/documents", "purified/excluded/records",
          "purified/excluded/documents", "sanitized/records", "sanitized/documents",
          "sanitized/ledger/records.parquet", "sanitized/ledger/documents.parquet",
          "purified/subject_index/records", "purified/subject_index/documents"]
STEPS = ["purified_records", "purified_documents", "sanitized_records", "sanitized_documents"]


def read(lake_root, name: str) -> pl.DataFrame:
    if name.endswith(".parquet"):
        return pl.read_parquet(f"{lake_root}/{name}")
    zone, table = name.split("/", 1)
    return pl.from_arrow(Lake(str(lake_root)).read_table(zone, table))


def tables(lake_root) -> dict[str, pl.DataFrame]:
    return {t: read(lake_root, t) for t in TABLES}


def assert_same_tables(got: dict, want: dict) -> None:
    for name in TABLES:
        assert got[name].shape == want[name].shape, name
        assert got[name].equals(want[name]), name


def home_with_the_plants_raw_zone(plant_settings, home):
    """A home holding the plant's raw zone and pseudonym key (identifier pseudonyms are keyed)."""
    shutil.copytree(plant_settings.lake_uri + "/raw", home / "lake" / "raw")
    shutil.copytree(plant_settings.home / "secrets", home / "secrets")
    return home


def test_local_engine_with_four_shards_of_small_pieces_writes_the_plants_tables(plant, tmp_path):
    from waterworks.assets.purification.config import load_purification_config
    from waterworks.assets.purification.purify import purify_documents, purify_records
    from waterworks.assets.resources import PiiEngineResource
    from waterworks.assets.sanitation.config import load_sanitation_config
    from waterworks.assets.sanitation.sanitize import Boundary, sanitize_table
    from waterworks.governance.policy import load_policy
    from waterworks.pipelines.settings import Settings

    settings, first, _ = plant
    assert first.ok, first.errors or first.failed
    local = Settings(home=home_with_the_plants_raw_zone(settings, tmp_path / "home"))
    lake, engine = Lake(local.lake_uri), LocalEngine(shards=4, piece_rows=50)
    purification = load_purification_config(None)
    records, documents = purify_records(lake, purification, engine), purify_documents(lake, purification, engine)
    assert records.shards == documents.shards == 4 and records.balanced and documents.balanced
    assert records.pieces > records.files and documents.pieces > documents.files  # large files cut in pieces
    assert documents.duplicate_clusters > 0  # the estate's copies are found across shards
    pii = PiiEngineResource.from_settings(local)
    boundary = Boundary(key=pii.pseudonym_key(), policy=load_policy(None))
    for table in ("records", "documents"):
        report = sanitize_table(lake, table, load_sanitation_config(None), pii.engine_config(), boundary=boundary,
                                sharding=engine)
        assert report.shards == 4
    assert_same_tables(tables(local.lake_uri), tables(settings.lake_uri))


def test_ray_engine_through_dagster_writes_the_plants_tables(plant, tmp_path):
    from waterworks.pipelines.definitions import build_definitions
    from waterworks.pipelines.settings import Settings, prepare_dagster_home

    settings, _, _ = plant
    on_ray = Settings(home=home_with_the_plants_raw_zone(settings, tmp_path / "home"), engine="ray", ray_workers=2,
                      shard_rows=150)
    prepare_dagster_home(on_ray)
    defs = build_definitions(on_ray)
    assets = [defs.resolve_assets_def(name) for name in STEPS]
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(assets, instance=instance)  # the definitions bind the settings' resources
        assert result.success
        for step in STEPS:
            meta = result.asset_materializations_for_node(step)[0].metadata
            assert meta["engine"].value == "ray" and meta["shards"].value > 1, step  # one per piece
        for step in STEPS[:2]:
            meta = result.asset_materializations_for_node(step)[0].metadata
            assert meta["pieces"].value > meta["raw_files"].value, step  # the large files ran as row ranges
        checks = result.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks), [(c.check_name, c.passed) for c in checks]
    assert_same_tables(tables(on_ray.lake_uri), tables(settings.lake_uri))


@pytest.fixture
def cluster():
    """A real multi-node Ray cluster on this machine: a head node and a second node, one CPU each, each its own
    raylet and object store (ray.cluster_utils, as Ray's own tests do)."""
    import ray
    from ray.cluster_utils import Cluster

    from waterworks.assets.engines import ray_init_options

    if ray.is_initialized():
        ray.shutdown()
    options = ray_init_options(None)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, runtime_env=options["runtime_env"], log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_two_node_ray_cluster_runs_shards_on_both_nodes_with_the_plants_tables(plant, tmp_path, cluster):
    """Shards on both nodes, and the duplicate clusters' components on the cluster too (``driver_components=0``
    sends them to the large/small-star rounds, the path of a corpus too large for the driver)."""
    from waterworks.assets.engines import RayEngine
    from waterworks.assets.purification.config import load_purification_config
    from waterworks.assets.purification.purify import purify_documents
    from waterworks.pipelines.settings import Settings

    settings, _, _ = plant
    home = home_with_the_plants_raw_zone(settings, tmp_path / "home")
    lake = Lake(Settings(home=home).lake_uri)
    engine = RayEngine(address=cluster.address, workers=2, driver_components=0, piece_rows=20)
    report = purify_documents(lake, load_purification_config(None), engine)
    assert len(report.nodes) == 2, report.nodes  # shards ran on both nodes
    for name in ("purified/documents", "purified/excluded/documents"):
        assert read(lake.root, name).equals(read(settings.lake_uri, name)), name
