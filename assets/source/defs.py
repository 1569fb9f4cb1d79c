"""Dagster definitions of the source stage: one raw asset per declared source, partitioned by landing file,
plus the landing inventory. Thin wrappers over ingest.py and inventory.py."""

import dagster as dg

from ..erasure.tombstones import Tombstones
from ..metadata import md_table
from ..resources import LakeResource, LandingResource, PiiEngineResource
from .catalog import SourceCatalog, SourceSpec
from .ingest import IngestReport, ingest_file, verify_outputs
from .inventory import write_inventory
from .landing import scan_landing

GROUP = "source"


def _report_metadata(report: IngestReport) -> dict:
    meta = {
        "file": report.relpath,
        "file_sha256": report.file_sha256,
        "size_bytes": report.size_bytes,
        "encoding": report.encoding or "n/a (binary format)",
        "units_in": report.units_in,
        "dagster/row_count": report.records_out,
        "records_out": report.records_out,
        "quarantined": report.quarantined,
        "file_quarantined": report.file_quarantined,
        "erased": report.erased,
        "accounting": dg.MetadataValue.md(
            f"in **{report.units_in}** = out **{report.records_out}** + quarantined **{report.quarantined}**"
            + (f" + erased **{report.erased}**" if report.erased else "")),
    }
    if report.quarantine_reasons:
        meta["quarantine_reasons"] = dg.MetadataValue.md(md_table(("reason", "count"),
                                                                   list(report.quarantine_reasons.items())))
    if report.columns:
        meta["dagster/column_schema"] = dg.TableSchema(
            columns=[dg.TableColumn(name, type_) for name, type_ in report.columns])
    if report.raw_uri:
        meta["raw_uri"] = dg.MetadataValue.path(report.raw_uri)
    if report.quarantine_uri:
        meta["quarantine_uri"] = dg.MetadataValue.path(report.quarantine_uri)
    return meta


def raw_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    partitions = dg.DynamicPartitionsDefinition(name=spec.partitions_name)

    @dg.asset(
        name=spec.asset_name,
        group_name=GROUP,
        description=f"{spec.description}\n\nOne partition per landing file matching {', '.join(spec.patterns)}. "
        f"Classification: **{spec.classification.value}**; legal basis: {spec.legal_basis}; "
        f"retention: {spec.retention_days} days.",
        partitions_def=partitions,
        kinds={"parquet", spec.format.value},
        owners=[spec.owner],
        tags={"classification": spec.classification.value, "stage": GROUP},
        metadata={"classification": spec.classification.value, "legal_basis": spec.legal_basis,
                  "retention_days": spec.retention_days, "patterns": ", ".join(spec.patterns),
                  "zone": "raw (private)"},
        code_version=spec.version,
        check_specs=[dg.AssetCheckSpec("accounting_balanced", asset=spec.asset_name, blocking=True,
                                       description="in = out + quarantined, read back from the written files")],
    )
    def _raw(context: dg.AssetExecutionContext, lake: LakeResource, landing: LandingResource,
             pii: PiiEngineResource) -> dg.MaterializeResult:
        landing_file = landing.file(context.partition_key, spec)
        the_lake = lake.lake()
        report = ingest_file(the_lake, spec, landing_file, Tombstones.load(the_lake, pii.pseudonym_key))
        verified = verify_outputs(the_lake, spec, report)
        context.log.info(f"{report.relpath}: in {report.units_in} = out {report.records_out} + quarantined "
                         f"{report.quarantined}" + (f" + erased {report.erased}" if report.erased else ""))
        return dg.MaterializeResult(
            metadata=_report_metadata(report),
            data_version=dg.DataVersion(landing_file.sha256),
            check_results=[dg.AssetCheckResult(check_name="accounting_balanced", passed=bool(verified["balanced"]),
                                               metadata=verified)],
        )

    return _raw


@dg.asset(
    name="landing_inventory",
    group_name=GROUP,
    description="Every file in the landing folder with its size, sha256 and the sources it feeds; files that no "
    "source claims are copied to quarantine with their reason. The anchor of lineage.",
    kinds={"parquet"},
    tags={"stage": GROUP},
    owners=["team:data-platform"],
)
def landing_inventory(context: dg.AssetExecutionContext, lake: LakeResource, landing: LandingResource) -> dg.MaterializeResult:
    from pathlib import Path

    scan = scan_landing(Path(landing.landing_dir), landing.catalog())
    summary = write_inventory(lake.lake(), scan)
    if summary.unrouted:
        context.log.warning(f"{summary.unrouted} landing file(s) match no source and were quarantined")
    if summary.refused:
        context.log.warning(f"{summary.refused} landing path(s) refused unread (links or not regular files); "
                            "reasons in quarantine/_refused")
    return dg.MaterializeResult(metadata={
        "files": summary.files,
        "bytes": summary.bytes,
        "unrouted_quarantined": summary.unrouted,
        "refused_unread": summary.refused,
        "files_by_source": dg.MetadataValue.md(md_table(("source", "files"), list(summary.by_source.items()))),
        "inventory_uri": dg.MetadataValue.path(summary.uri),
    })


def source_assets(catalog: SourceCatalog) -> list[dg.AssetsDefinition]:
    return [raw_asset(spec) for spec in catalog.sources] + [landing_inventory]
