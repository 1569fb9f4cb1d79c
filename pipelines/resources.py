"""Resources chosen per profile in one place: the local profile points them at .waterworks/, production at
the object store (lake) given by the settings."""

from __future__ import annotations

import os

import dagster as dg

from waterworks.assets.resources import (
    DistributionResource,
    GovernanceResource,
    LakeResource,
    LandingResource,
    MlflowResource,
    PiiEngineResource,
    ShardingResource,
    TrainingResource,
)

from .settings import Settings, has_secret


def secret_safe(variable: str, value: str) -> str | dg.EnvVar:
    """A config value that holds a secret (a password in a URL) goes to the resource as ``EnvVar(variable)``:
    the Dagster UI, run configs and event logs then show the variable's name, never the value. The variable is
    set in this process, which every step process inherits."""
    if not has_secret(value):
        return value
    os.environ[variable] = value
    return dg.EnvVar(variable)


def resources_for(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "lake": LakeResource(root=secret_safe("WATERWORKS_LAKE_URI", str(settings.lake_uri)),
                             catalog_file=str(settings.catalog_file)),
        "landing": LandingResource(landing_dir=str(settings.landing_dir), sources_file=str(settings.sources_file)),
        "pii": PiiEngineResource.from_settings(settings),
        "sharding": ShardingResource.from_settings(settings),
        "training": TrainingResource(
            models_dir=str(settings.models_dir), landing_dir=str(settings.landing_dir),
            config_file=str(settings.training_file), profile=settings.training_profile,
            device=settings.training_device, base_model_path=settings.base_model_path,
            classifier_base_path=settings.classifier_base_path, processes=settings.training_processes),
        "mlflow": MlflowResource(tracking_uri=secret_safe("WATERWORKS_MLFLOW_TRACKING_URI",
                                                          str(settings.mlflow_tracking_uri)),
                                 artifact_uri=str(settings.mlflow_artifact_uri),
                                 ui_url=f"http://127.0.0.1:{settings.mlflow_ui_port}"),
        "distribution": DistributionResource(config_file=str(settings.distribution_file),
                                             bundles_dir=str(settings.bundles_dir)),
        "governance": GovernanceResource(policy_file=str(settings.policy_file), reports_dir=str(settings.reports_dir),
                                         home=str(settings.home), **settings.declared_access()),
    }
