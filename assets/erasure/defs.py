"""Dagster: ``forget_job`` (an erasure request, from the UI or ``waterworks forget``), the ``erasure_requests``
asset that completes pending requests at the end of each plant run, and the scheduled ``retention_sweep``.

The subject's value never enters Dagster: the job's config names a file holding it (owner-only; deleted once
read), so neither the run's config nor its events carry the value."""


import getpass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from ..resources import (
    DistributionResource,
    GovernanceResource,
    LakeResource,
    LandingResource,
    MlflowResource,
    PiiEngineResource,
    TrainingResource,
)
from .forget import PlantPlaces, complete_pending, forget
from .retention import sweep

GROUP = "erasure"
FORGET_JOB, RETENTION_JOB = "forget_job", "retention_job"
OWNER = "team:data-protection"  # the DPO office: erasure requests and retention are theirs to answer for


def places_of(lake: LakeResource, landing: LandingResource, training: TrainingResource,
              distribution: DistributionResource, mlflow: MlflowResource, governance: GovernanceResource
              ) -> PlantPlaces:
    return PlantPlaces(lake.lake(), Path(governance.home or Path(training.models_dir).parent),
                       Path(landing.landing_dir), Path(training.models_dir), Path(distribution.bundles_dir),
                       Path(lake.catalog_file), mlflow.tracking_uri)


class ForgetConfig(dg.Config):
    subject_file: str  # a file whose first line is the value (an ID, phone, e-mail or name); deleted once read
    requested_by: str = ""


def read_subject_file(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no such subject file (write the value to it, owner-only)")
    value = file.read_text(encoding="utf-8").splitlines()[0].strip() if file.stat().st_size else ""
    file.unlink()  # the value lives no longer than the request needs it
    if len(value) < 2:
        raise ValueError(f"{path}: the subject file holds no value")
    return value


@dg.op(description="Erase one data subject from every zone, dataset and model (see assets/erasure/forget.py).")
def erase_subject(context: dg.OpExecutionContext, config: ForgetConfig, lake: LakeResource, landing: LandingResource,
                  training: TrainingResource, distribution: DistributionResource, mlflow: MlflowResource,
                  governance: GovernanceResource, pii: PiiEngineResource) -> dict:
    value = read_subject_file(config.subject_file)
    actor = config.requested_by or f"{getpass.getuser()} via Dagster run {context.run.run_id}"
    places = places_of(lake, landing, training, distribution, mlflow, governance)
    entry = forget(places, pii.pseudonym_key().secret, value, actor)
    del value
    removed = sum(n.get("rows_removed", 0) for n in entry["zones"].values())
    context.log.info(f"erasure {entry['request_id']}: {removed} row(s) removed, {len(entry['landing'])} landing "
                     f"file(s) edited, {len(entry['datasets_deleted'])} dataset version(s) deleted, "
                     f"{len(entry['models_retired'])} model(s) retired; status {entry['status']}")
    context.add_output_metadata({"request_id": entry["request_id"], "status": entry["status"],
                                 "rows_removed": removed, "datasets_deleted": len(entry["datasets_deleted"]),
                                 "models_retired": len(entry["models_retired"]),
                                 "residual_places": len(entry["residual"])})
    return {"request_id": entry["request_id"], "status": entry["status"]}


@dg.job(name=FORGET_JOB, tags={"stage": GROUP},
        description="An erasure request (GDPR Art. 17, PIPL Art. 47): config `subject_file`, a file holding the "
                    "value. The next plant run rebuilds and retrains; its erasure_requests asset completes it.")
def forget_job():
    erase_subject()


@dg.asset(name="erasure_requests", group_name=GROUP, kinds={"python"}, tags={"stage": GROUP}, owners=[OWNER],
          deps=["edge_bundle", "server_bundle", "cloud_bundle"],
          description="Completes pending erasure requests after the rebuild: the proof scan of the home again "
                      "(retrained models, new datasets, the catalog) and each retired model's champion now.")
def erasure_requests(context: dg.AssetExecutionContext, lake: LakeResource, landing: LandingResource,
                     training: TrainingResource, distribution: DistributionResource, mlflow: MlflowResource,
                     governance: GovernanceResource) -> dg.MaterializeResult:
    from ..distribution.registry import CHAMPION, alias_version
    from ..tracking import mlflow_client

    places = places_of(lake, landing, training, distribution, mlflow, governance)
    client = mlflow_client(mlflow.tracking_uri)
    champions = {}
    for model in client.search_registered_models():
        version = alias_version(client, model.name, CHAMPION)
        champions[model.name] = str(version.version) if version is not None else None
    updates = complete_pending(places, champions)
    for update in updates:
        context.log.info(f"erasure {update['request_id']}: {update['status']}; champions now "
                         f"{update['champions_after']}")
    return dg.MaterializeResult(metadata={"completed": sum(u["status"] == "completed" for u in updates),
                                          "incomplete": sum(u["status"] != "completed" for u in updates)})


class RetentionConfig(dg.Config):
    as_of: str = ""  # ISO date-time the sweep judges ages from; empty: now (set it to replay or preview a date)


@dg.asset(name="retention_sweep", group_name=GROUP, kinds={"python"}, tags={"stage": GROUP}, owners=[OWNER],
          description="Raw, quarantine and purified data older than its source's retention_days (by ingestion "
                      "date) deleted, with the same downstream effects as an erasure; a ledger entry per sweep.")
def retention_sweep(context: dg.AssetExecutionContext, config: RetentionConfig, lake: LakeResource,
                    landing: LandingResource, training: TrainingResource, distribution: DistributionResource,
                    mlflow: MlflowResource, governance: GovernanceResource) -> dg.MaterializeResult:
    places = places_of(lake, landing, training, distribution, mlflow, governance)
    now = datetime.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    entry = sweep(places, landing.catalog(), now, f"{getpass.getuser()} via Dagster run {context.run.run_id}")
    return dg.MaterializeResult(metadata={"files_expired": len(entry["expired_files"]),
                                          "datasets_deleted": len(entry["datasets_deleted"]),
                                          "models_retired": len(entry["models_retired"])})


retention_job = dg.define_asset_job(RETENTION_JOB, selection=dg.AssetSelection.assets("retention_sweep"),
                                    description="Enforce each source's retention_days.", tags={"stage": GROUP})

retention_schedule = dg.ScheduleDefinition(
    name="daily_retention", cron_schedule="30 2 * * *", execution_timezone="Asia/Shanghai", job=retention_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:30 (Asia/Shanghai), before the refresh: data past its retention deleted.")


def erasure_assets() -> list:
    return [erasure_requests, retention_sweep]
