"""Every resource built from the settings in one place: the local profile points them at .waterworks/,
production at the object store (lake) given by the settings; the stage configs at the files the settings name."""

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
    StageConfigsResource,
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
    configs = StageConfigsResource.from_settings(settings)
    mlflow = MlflowResource.from_settings(settings, secret_safe("WATERWORKS_MLFLOW_TRACKING_URI",
                                                                str(settings.mlflow_tracking_uri)))
    return {
        "configs": configs,
        "lake": LakeResource(root=secret_safe("WATERWORKS_LAKE_URI", str(settings.lake_uri)),
                             catalog_file=str(settings.catalog_file)),
        "landing": LandingResource(landing_dir=str(settings.landing_dir), configs=configs),
        "pii": PiiEngineResource.from_settings(settings, mlflow),
        "sharding": ShardingResource.from_settings(settings),
        "training": TrainingResource(
            models_dir=str(settings.models_dir), landing_dir=str(settings.landing_dir), configs=configs,
            preset=settings.training_preset, device=settings.training_device,
            base_model_path=settings.base_model_path, classifier_base_path=settings.classifier_base_path,
            processes=settings.training_processes),
        "mlflow": mlflow,
        "distribution": DistributionResource(configs=configs, bundles_dir=str(settings.bundles_dir)),
        "governance": GovernanceResource(configs=configs, reports_dir=str(settings.reports_dir),
                                         home=str(settings.home), **settings.declared_access()),
    }
