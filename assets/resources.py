"""The Dagster resources the assets use: the lake and the landing folder. pipelines/resources.py picks their
values per profile."""

import os
from pathlib import Path

import dagster as dg
from dagster_ray import LocalRay, RayResource
from dagster_ray.configs import Lifecycle

from .lake import Lake
from .source.catalog import SourceCatalog, SourceSpec, load_catalog
from .source.landing import LandingFile, UnsafeLandingPath, open_landing_file


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
    sources_file: str

    def catalog(self) -> SourceCatalog:
        return load_catalog(self.sources_file)

    def file(self, relpath: str, spec: SourceSpec | None = None) -> LandingFile:
        """The landing file behind a partition key, checked (a normalized path inside landing, no link, one of
        ``spec``'s patterns) before anything is read, and hashed now (the bytes we are about to read)."""
        try:
            return open_landing_file(Path(self.landing_dir), relpath, spec.matches if spec else None)
        except (UnsafeLandingPath, FileNotFoundError) as exc:
            raise dg.Failure(str(exc)) from None


class PiiEngineResource(dg.ConfigurableResource):
    """The PII analyzer's models: the learned name and address detector (a folder; none: the shipped one), its
    threshold (none: the saved one), the English spaCy pipeline ('blank', or one whose NER adds PERSON
    findings), an optional Chinese one (none: a blank tokenizer) and a cache folder."""

    english_model: str = "blank"
    chinese_model: str | None = None
    detector: str | None = None
    detector_threshold: float | None = None
    cache_dir: str
    pseudonym_key_file: str | None = None  # a path, never the secret: WATERWORKS_PSEUDONYM_KEY wins when set

    @classmethod
    def from_settings(cls, settings) -> "PiiEngineResource":
        key_file = settings.pseudonym_key_file
        return cls(english_model=settings.pii_english_model, chinese_model=settings.pii_chinese_model,
                   detector=settings.pii_detector, detector_threshold=settings.pii_detector_threshold,
                   cache_dir=str(settings.home / "cache"), pseudonym_key_file=str(key_file) if key_file else None)

    def pseudonym_key(self):
        """The key of keyed pseudonyms (identifier columns, the pseudonym operator)."""
        from waterworks.governance.pii.operators import PseudonymKey

        return PseudonymKey.load(self.pseudonym_key_file)

    def engine_config(self):
        from waterworks.governance.pii.engine import EngineConfig

        return EngineConfig(english_model=self.english_model, chinese_model=self.chinese_model,
                            cache_dir=Path(self.cache_dir), detector=self.detector,
                            detector_threshold=self.detector_threshold)


class TrainingResource(dg.ConfigurableResource):
    """Where models go and how they are trained: the models folder, the training config and profile
    (tiny / cpu / gpu), the device (auto: CUDA when present), optional local base models (a causal LM for chat
    fine-tuning, an encoder for classification), and the landing folder whose ground truth names canaries."""

    models_dir: str
    landing_dir: str
    config_file: str | None = None
    profile: str | None = None
    device: str = "auto"
    base_model_path: str | None = None
    classifier_base_path: str | None = None
    processes: int = 1  # per training: >1 = data-parallel under torchrun (one per GPU); 0 = one per visible GPU

    def training_config(self):
        from .training.config import load_training_config

        return load_training_config(self.config_file)

    def recipe_profile(self):
        return self.training_config().profile(self.profile)

    def device_override(self) -> str | None:
        return None if self.device == "auto" else self.device

    def training_processes(self) -> int:
        from waterworks.models.distributed import processes_for

        return processes_for(self.processes)

    def request(self, lake, log):
        """A training function's ``TrainingRequest`` under these settings."""
        from pathlib import Path

        from .training.train import TrainingRequest

        return TrainingRequest(lake=lake, models_dir=Path(self.models_dir), profile=self.recipe_profile(),
                               device=self.device_override(), log=log, processes=self.training_processes(),
                               base_model_path=self.base_model_path, encoder_path=self.classifier_base_path)


class MlflowResource(dg.ConfigurableResource):
    """MLflow tracking and registry over ``MlflowClient``: a local SQLite store (local profile) or a tracking
    server / PostgreSQL URL (production), artifacts under ``artifact_uri`` (a folder or an object store), and
    the UI address that asset metadata links to."""

    tracking_uri: str
    artifact_uri: str
    experiment: str = "waterworks"
    ui_url: str = "http://127.0.0.1:5000"

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


class DistributionResource(dg.ConfigurableResource):
    """The distribution config and the folder deployment bundles are written to."""

    config_file: str | None = None
    bundles_dir: str

    def config(self):
        from .distribution.config import load_distribution_config

        return load_distribution_config(self.config_file)


class GovernanceResource(dg.ConfigurableResource):
    """The data-use policy (which classifications may feed which training and go to which target) and the
    folder compliance reports are written to."""

    policy_file: str | None = None
    reports_dir: str
    home: str | None = None                # the plant's home: what an erasure's proof scans
    profile: str = "local"                 # the access controls the report states: the settings profile,
    mlflow_auth: bool = False              # whether the MLflow server runs its basic-auth app,
    pseudonym_key_file: str | None = None  # and where the local pseudonym key lives (a path, never the key)

    def access(self) -> dict:
        return {"profile": self.profile, "mlflow_auth": self.mlflow_auth,
                "pseudonym_key_file": self.pseudonym_key_file}

    def policy(self):
        from waterworks.governance.policy import load_policy

        return load_policy(self.policy_file)


class ShardingResource(dg.ConfigurableResource):
    """Where purification and sanitation run their shards (assets/engines.py): ``local`` in the step's process,
    or ``ray`` on the cluster of ``ray_cluster`` — dagster-ray's resource: ``LocalRay`` (a local Ray per step,
    or the cluster RAY_ADDRESS names) in development and tests, a KubeRay cluster in production. With the
    local engine the Ray resource is inert (nothing started, nothing imported)."""

    engine: str = "local"
    shards: int = 0          # 0: the engine's default (local: 1; ray: one per landing file)
    workers: int = 2         # a local Ray's CPUs
    address: str | None = None
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
        return cls(engine=settings.engine, shards=settings.shards, workers=settings.ray_workers,
                   address=settings.ray_address, ray_cluster=cluster)

    def make(self):
        from waterworks.assets.engines import make_engine

        default = 1 if self.engine == "local" else 0
        return make_engine(self.engine, self.shards or default, self.workers, self.address)
