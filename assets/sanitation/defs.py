"""Dagster definitions of the sanitation stage: ``sanitized_records`` and ``sanitized_documents``, thin
wrappers over sanitize.py with counts as metadata (never values) and blocking checks: no residual PII found
by the independent rescan (above the configured threshold), and no row lost."""

import dagster as dg

from ..metadata import md_table
from ..resources import (
    GovernanceResource,
    LakeResource,
    PiiEngineResource,
    ShardingResource,
    StageConfigsResource,
)
from .checks import check_residual, check_rows_kept
from .sanitize import Boundary, SanitizeReport, sanitize_table

GROUP = "sanitation"


def report_metadata(report: SanitizeReport) -> dict:
    columns = sorted({(source, column, how) for source, cols in report.columns.items() for column, how in cols.items()})
    return {
        "dagster/row_count": report.rows,
        "texts_examined": report.texts,
        "texts_changed": report.texts_changed,
        "findings_by_type": dg.MetadataValue.md(md_table(("entity type", "findings"), sorted(report.by_type.items())))
        if report.by_type else "none",
        "columns": dg.MetadataValue.md(md_table(("source", "column", "handled as"), columns)),
        "ledger_rows": report.ledger_rows,
        "engine": report.engine,
        "shards": report.shards,
        "worker_nodes": len(report.nodes),
        "texts_remembered": report.texts_remembered,
        "texts_analyzed": report.texts_analyzed,
        "seconds_by_step": dg.MetadataValue.json(report.seconds),
        "config_hash": report.config_hash,
        "uri": dg.MetadataValue.path(report.uri),
        "ledger_uri": dg.MetadataValue.path(report.ledger_uri),
    }


def _sanitized_asset(name: str, table: str, upstream: str, description: str) -> dg.AssetsDefinition:
    checks = [dg.AssetCheckSpec("no_residual_pii", asset=name, blocking=True,
                                description="independent detectors rescan every text column that leaves the "
                                "private zone (kept ids and provenance included): identifiers, phones "
                                "and e-mails by regular expressions and check digits (no Presidio); names and "
                                "addresses by a second NER model and the learned detector at a lower "
                                "threshold; fails above the configured thresholds, which stops everything "
                                "downstream"),
              dg.AssetCheckSpec("rows_kept", asset=name, blocking=True,
                                description="as many rows sanitized as purified")]

    @dg.asset(name=name, group_name=GROUP, deps=[upstream], description=description, kinds={"parquet", "presidio"},
              tags={"stage": GROUP}, owners=["team:data-platform"], check_specs=checks,
              metadata={"zone": "sanitized (no personal data)", "table": table})
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, pii: PiiEngineResource,
               governance: GovernanceResource, sharding: ShardingResource,
               configs: StageConfigsResource) -> dg.MaterializeResult:
        config = configs.get("sanitation")
        the_lake = lake.lake()
        boundary = Boundary(key=pii.pseudonym_key(), policy=governance.policy())
        engine = sharding.make()
        engine_config, detector = pii.resolved()
        context.log.info(f"PII detector: {detector}")
        report = sanitize_table(the_lake, table, config, engine_config, boundary=boundary, sharding=engine)
        context.log.info(f"{table}: {report.rows} rows, {report.texts_changed} of {report.texts} values changed "
                         f"({config.operator}); findings by type: {dict(sorted(report.by_type.items()))}")
        residual_ok, residual_meta = check_residual(the_lake, table, config.residual,
                                                    pseudonyms=config.operator == "pseudonym",
                                                    detector=engine_config.detector, engine=engine)
        rows_ok, rows_meta = check_rows_kept(the_lake, table)
        return dg.MaterializeResult(metadata={**report_metadata(report), "pii_detector": detector}, check_results=[
            dg.AssetCheckResult(check_name="no_residual_pii", passed=residual_ok, metadata=residual_meta,
                                severity=dg.AssetCheckSeverity.ERROR),
            dg.AssetCheckResult(check_name="rows_kept", passed=rows_ok, metadata=rows_meta),
        ])

    return _asset


def sanitation_assets() -> list[dg.AssetsDefinition]:
    return [
        _sanitized_asset(
            "sanitized_records", "records", "purified_records",
            "Purified records with personal data redacted: declared columns (name, national ID, phone, e-mail, "
            "address) replaced whole; attributes JSON per leaf path, typed from a sample or analyzed as text. "
            "Audit ledger (counts, never values): `sanitized/ledger/records.parquet`."),
        _sanitized_asset(
            "sanitized_documents", "documents", "purified_documents",
            "Purified documents with personal data redacted in title, body and attributes (the learned name "
            "and address detector in English and Chinese, Greater China identifiers, cards, phones, e-mails); `body_zh_hans` re-derived from the redacted body. Audit "
            "ledger: `sanitized/ledger/documents.parquet`."),
    ]

