"""The Dagster resources the assets use. pipelines/resources.py builds every one of them from the settings
(``Settings``), so their defaults live there, not here."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_ray import LocalRay, RayResource
from dagster_ray.configs import Lifecycle

from .lake import Lake
from .source.catalog import SourceCatalog, SourceSpec
from .source.landing import LandingFile, UnsafeLandingPath, open_landing_file
from .stage_configs import STAGE_CONFIGS


@lru_cache(maxsize=32)
def _load_stage_config(stage: str, path: str, stamp: tuple[int, int]) -> Any:
    return STAGE_CONFIGS[stage].load(path)


class StageConfigsResource(dg.ConfigurableResource):
    """Every stage's YAML config (assets/stage_configs.py), at the paths the settings name: loaded and
    validated on first use in a process, loaded again when the file changes. The other resources that read a
    stage config hold this one."""

    files: dict[str, str]

    @classmethod
    def from_settings(cls, settings) -> "StageConfigsResource":
        return cls(files={stage: str(path) for stage, path in settings.configs.files.items()})

    def get(self, stage: str) -> Any:
        path = self.files.get(stage) or str(STAGE_CONFIGS[stage].default)
        try:
            stat = os.stat(path)
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = (0, 0)  # the loader names the missing file
        return _load_stage_config(stage, path, stamp)


class LakeResource(dg.ConfigurableResource):
    """The lake root: a local folder (local profile) or an object-store URI (production), and where the DuckDB
    catalog over its shareable zones goes."""

    root: str
    catalog_file: str  # the DuckDB catalog of the shareable zones (assets/datasets/catalog.py)

    def lake(self) -> Lake:
        return Lake(self.root)


class LandingResource(dg.ConfigurableResource):
    """The landing folder and the sources config that routes its files."""

    landing_dir: str
    configs: dg.ResourceDependency[StageConfigsResource]

    def catalog(self) -> SourceCatalog:
        return self.configs.get("sources")

    def file(self, relpath: str, spec: SourceSpec | None = None) -> LandingFile:
        """The landing file behind a partition key, checked (a normalized path inside landing, no link, one of
        ``spec``'s patterns) before anything is read, and hashed now (the bytes we are about to read)."""
        try:
            return open_landing_file(Path(self.landing_dir), relpath, spec.matches if spec else None)
        except (UnsafeLandingPath, FileNotFoundError) as exc:
            raise dg.Failure(str(exc)) from None


class MlflowResource(dg.ConfigurableResource):
    """MLflow tracking and registry over ``MlflowClient``: a local SQLite store (local profile) or a tracking
    server / PostgreSQL URL (production), artifacts under ``artifact_uri`` (a folder or an object store), and
    the UI address that asset metadata links to."""

    tracking_uri: str
    artifact_uri: str
    ui_url: str
    experiment: str = "waterworks"

    @classmethod
    def from_settings(cls, settings, tracking_uri=None) -> "MlflowResource":
        """``tracking_uri``: the value to configure (pipelines/resources.py passes an ``EnvVar`` when the URI
        holds a secret); default: the settings' URI as it is."""
        return cls(tracking_uri=tracking_uri or str(settings.mlflow_tracking_uri),
                   artifact_uri=str(settings.mlflow_artifact_uri), ui_url=f"http://127.0.0.1:{settings.mlflow_ui_port}")

    def client(self):
        from .tracking import mlflow_client

        return mlflow_client(self.tracking_uri)

    def experiment_id(self, client) -> str:
        from .tracking import ensure_experiment

        return ensure_experiment(client, self.experiment, self.artifact_uri)

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return f"{self.ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"

    def model_url(self, name: str, version: str) -> str:
        return f"{self.ui_url.rstrip('/')}/#/models/{name}/versions/{version}"


class PiiEngineResource(dg.ConfigurableResource):
    """The PII analyzer's models: the learned name and address detector (a folder; none: the shipped one;
    ``champion``: the registry's champion of the ``pii_detector`` product, the shipped one until there is one),
    its threshold (none: the saved one), the English spaCy pipeline ('blank', or one whose NER adds PERSON
    findings), an optional Chinese one (none: a blank tokenizer) and a cache folder."""

    english_model: str
    chinese_model: str | None
    detector: str | None
    detector_threshold: float | None
    cache_dir: str
    models_dir: str                        # the promotion ledger that vouches for a champion detector
    mlflow: dg.ResourceDependency[MlflowResource]
    pseudonym_key_file: str | None = None  # a path, never the secret: WATERWORKS_PSEUDONYM_KEY wins when set

    @classmethod
    def from_settings(cls, settings, mlflow: MlflowResource | None = None) -> "PiiEngineResource":
        key_file = settings.pseudonym_key_file
        mlflow = mlflow or MlflowResource.from_settings(settings)
        return cls(english_model=settings.pii_english_model, chinese_model=settings.pii_chinese_model,
                   detector=settings.pii_detector, detector_threshold=settings.pii_detector_threshold,
                   cache_dir=str(settings.home / "cache"), models_dir=str(settings.models_dir), mlflow=mlflow,
                   pseudonym_key_file=str(key_file) if key_file else None)

    def pseudonym_key(self):
        """The key of keyed pseudonyms (identifier columns, the pseudonym operator)."""
        from waterworks.governance.pii.operators import PseudonymKey

        return PseudonymKey.load(self.pseudonym_key_file)

    def engine_config(self):
        return self.resolved()[0]

    def resolved(self):
        """``(EngineConfig, which detector)``: the ``champion`` setting resolved to the registry's verified
        champion at this moment (its version named), or to the shipped detector while there is none."""
        from waterworks.governance.pii.engine import EngineConfig

        detector, which = self.detector, self.detector or "shipped (governance/pii/detector)"
        if self.detector == "champion":
            from .distribution.registry import champion_detector
            from .products import product

            name = product("pii_detector").registered_name
            folder, which = champion_detector(self.mlflow.client(), self.mlflow.tracking_uri, name,
                                              Path(self.models_dir), Path(self.cache_dir))
            detector = str(folder) if folder else None
            which = which if folder else f"shipped (governance/pii/detector): {which}"
        return EngineConfig(english_model=self.english_model, chinese_model=self.chinese_model,
                            cache_dir=Path(self.cache_dir), detector=detector,
                            detector_threshold=self.detector_threshold), which


class TrainingResource(dg.ConfigurableResource):
    """Where models go and how they are trained: the models folder, the training config and its preset
    (tiny / cpu / gpu), the device (auto: CUDA when present), optional local base models (a causal LM for chat
    fine-tuning, an encoder for classification), and the landing folder whose ground truth names canaries."""

    models_dir: str
    landing_dir: str
    configs: dg.ResourceDependency[StageConfigsResource]
    preset: str | None        # None: the training config's default_preset
    device: str
    base_model_path: str | None
    classifier_base_path: str | None
    processes: int  # per training: >1 = data-parallel under torchrun (one per GPU); 0 = one per visible GPU

    def training_config(self):
        return self.configs.get("training")

    def recipe_preset(self):
        return self.training_config().preset(self.preset)

    def device_override(self) -> str | None:
        return None if self.device == "auto" else self.device

    def training_processes(self) -> int:
        from waterworks.models.distributed import processes_for

        return processes_for(self.processes)

    def request(self, lake, log):
        """A training function's ``TrainingRequest`` under these settings."""
        from pathlib import Path

        from .training.train import TrainingRequest

        return TrainingRequest(lake=lake, models_dir=Path(self.models_dir), preset=self.recipe_preset(),
                               device=self.device_override(), log=log, processes=self.training_processes(),
                               base_model_path=self.base_model_path, encoder_path=self.classifier_base_path)


class DistributionResource(dg.ConfigurableResource):
    """The distribution config and the folder deployment bundles are written to."""

    configs: dg.ResourceDependency[StageConfigsResource]
    bundles_dir: str

    def config(self):
        return self.configs.get("distribution")


class GovernanceResource(dg.ConfigurableResource):
    """The data-use policy (which classifications may feed which training and go to which target) and the
    folder compliance reports are written to."""

    configs: dg.ResourceDependency[StageConfigsResource]
    reports_dir: str
    home: str | None = None                # the plant's home: what an erasure's proof scans
    profile: str = "local"                 # the access controls the report states: the settings profile,
    mlflow_auth: bool = False              # whether the MLflow server runs its basic-auth app,
    pseudonym_key_file: str | None = None  # and where the local pseudonym key lives (a path, never the key)

    def access(self) -> dict:
        return {"profile": self.profile, "mlflow_auth": self.mlflow_auth,
                "pseudonym_key_file": self.pseudonym_key_file}

    def policy(self):
        return self.configs.get("policy")


class ShardingResource(dg.ConfigurableResource):
    """Where purification and sanitation run their shards (assets/engines.py): ``local`` in the step's process,
    or ``ray`` on the cluster of ``ray_cluster`` — dagster-ray's resource: ``LocalRay`` (a local Ray per step,
    or the cluster RAY_ADDRESS names) in development and tests, a KubeRay cluster in production. With the
    local engine the Ray resource is inert (nothing started, nothing imported)."""

    engine: str
    shards: int              # 0: the engine's default (local: 1; ray: one per piece)
    shard_rows: int          # rows of a piece (a row range of a large file)
    workers: int             # a local Ray's CPUs
    address: str | None
    ray_cluster: dg.ResourceDependency[RayResource]

    @classmethod
    def from_settings(cls, settings) -> "ShardingResource":
        from waterworks.assets.engines import ray_init_options

        if settings.engine == "ray":
            if settings.ray_address:
                os.environ["RAY_ADDRESS"] = settings.ray_address  # LocalRay's ray.init(address=None) joins it
            cluster = LocalRay(ray_init_options=ray_init_options(None if settings.ray_address else
                                                                 settings.ray_workers))
        else:
            cluster = LocalRay(lifecycle=Lifecycle(create=False, wait=False, connect=False, cleanup="never"))
        return cls(engine=settings.engine, shards=settings.shards, shard_rows=settings.shard_rows,
                   workers=settings.ray_workers,
                   address=settings.ray_address, ray_cluster=cluster)

    def make(self):
        from waterworks.assets.engines import make_engine

        default = 1 if self.engine == "local" else 0
        return make_engine(self.engine, self.shards or default, self.workers, self.address,
                           piece_rows=self.shard_rows)
