"""Dagster definitions of governance reporting: the ``compliance_report`` asset (group ``governance``), its
job, and the sensors that produce a report after every plant run — succeeded or failed, since a run stopped
by a blocking policy or privacy check is the one an auditor most needs to see."""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from waterworks.governance.files import write_atomically

from ..metadata import md_table
from ..resources import (
    DistributionResource,
    GovernanceResource,
    LakeResource,
    LandingResource,
    MlflowResource,
    TrainingResource,
)
from .build import produce_report, report_summary
from .facts import PlantView

GROUP = "governance"
REPORT_ASSET = "compliance_report"
REPORT_JOB = "compliance_report_job"
REPORTED_RUN_TAG = "waterworks/reported_run"
LATEST = "latest.json"


@dg.asset(name=REPORT_ASSET, group_name=GROUP, deps=["server_bundle", "edge_bundle", "cloud_bundle"],
          kinds={"html", "json"}, owners=["team:data-protection"], tags={"stage": GROUP},
          description="Compliance report of the plant as it stands after a run: PII by type × source × language, "
          "operators, the record funnel with drop and quarantine reasons, residual scans, canary exposure, model "
          "lineage to the landing files, policy decisions, and the impact assessment mapped to PIPL (Art. 28, 51, "
          "55–56) and GDPR (Art. 5, 25, 30, 32, 35). Self-contained HTML with charts, and JSON with its schema.")
def compliance_report(context: dg.AssetExecutionContext, lake: LakeResource, landing: LandingResource,
                      training: TrainingResource, mlflow: MlflowResource, distribution: DistributionResource,
                      governance: GovernanceResource) -> dg.MaterializeResult:
    reported = context.run.tags.get(REPORTED_RUN_TAG, "")
    view = PlantView(lake.lake(), landing.catalog(), Path(training.models_dir), governance.policy(),
                     mlflow.client(), distribution.config(), Path(distribution.bundles_dir), governance.access())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(governance.reports_dir) / f"{stamp}-{context.run.run_id[:8]}"
    files, report = produce_report(view, out, {"run_id": context.run.run_id, "reported_run_id": reported,
                                               "job": context.run.job_name})
    latest = Path(governance.reports_dir) / LATEST
    write_atomically(latest, json.dumps({"html": str(files.html), "json": str(files.json),
                                         "run_id": context.run.run_id}))
    summary = report_summary(report)
    articles = md_table(("law", "article", "status"), [(a["framework"], f"{a['article']} {a['title']}",
                                                        a["status"] + (f": {'; '.join(a['problems'])}"
                                                                       if a["problems"] else ""))
                                                       for a in report["impact_assessment"]["articles"]])
    context.log.info(f"compliance report: {files.html} — {report['impact_assessment']['conclusion']}")
    return dg.MaterializeResult(metadata={
        **summary,
        "report_html": dg.MetadataValue.path(str(files.html)),
        "report_json": dg.MetadataValue.path(str(files.json)),
        "open_report": dg.MetadataValue.url(files.html.as_uri()),
        "reported_run": reported or "the plant as it stands",
        "impact_assessment": dg.MetadataValue.md(articles),
        "conclusion": report["impact_assessment"]["conclusion"],
    })


def report_job():
    return dg.define_asset_job(REPORT_JOB, selection=dg.AssetSelection.assets(REPORT_ASSET),
                               description="Write the compliance report of the plant as it stands.",
                               tags={"stage": GROUP})


def report_sensors(plant_job, job) -> list[dg.SensorDefinition]:
    """After every plant run, succeeded or failed: a report run (run key = the plant run, so one report each)."""

    def request(context: dg.RunStatusSensorContext) -> dg.RunRequest:
        run_id = context.dagster_run.run_id
        return dg.RunRequest(run_key=f"report:{run_id}", tags={REPORTED_RUN_TAG: run_id})

    @dg.run_status_sensor(name="report_after_plant_run", run_status=dg.DagsterRunStatus.SUCCESS,
                          monitored_jobs=[plant_job], request_job=job,
                          default_status=dg.DefaultSensorStatus.RUNNING,
                          description="When a plant run succeeds, write its compliance report.")
    def after_success(context: dg.RunStatusSensorContext):
        return request(context)

    @dg.run_failure_sensor(name="report_after_failed_plant_run", monitored_jobs=[plant_job], request_job=job,
                           default_status=dg.DefaultSensorStatus.RUNNING,
                           description="When a plant run fails (a blocking check stopped it, or a step failed), "
                           "write the compliance report all the same: it shows why.")
    def after_failure(context: dg.RunFailureSensorContext):
        return request(context)

    return [after_success, after_failure]


def reporting_assets() -> list[dg.AssetsDefinition]:
    return [compliance_report]
