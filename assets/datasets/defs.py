"""Dagster definitions of the datasets stage: ``chat_dataset``, ``classification_dataset`` and
``pretrain_corpus``, built only from the sanitized zone, each written as a new version with its card when its
content changed. Blocking check: the residual-PII rescan of the dataset finds nothing."""

import dagster as dg

from ..metadata import md_table
from ..resources import GovernanceResource, LakeResource, PiiEngineResource, StageConfigsResource
from .build import DATASETS, BuiltDataset, DatasetSpec
from .checks import check_dataset_residual, record_residual

GROUP = "datasets"


def dataset_metadata(built: BuiltDataset) -> dict:
    card = built.card
    meta = {
        "dagster/row_count": sum(built.version.rows.values()),
        "version": built.version.version,
        "digest": built.version.digest,
        "rows_by_split": dg.MetadataValue.json(built.version.rows),
        "new_version": not built.version.reused,
        "card": dg.MetadataValue.md(built.markdown),
        "pii_redacted_by_type": dg.MetadataValue.json(card.get("pii_redacted_by_type", {})),
        "uri": dg.MetadataValue.path(built.version.uris["train"].rsplit("/", 1)[0]),
    }
    if card.get("label_names"):
        meta["labels"] = len(card["label_names"])
    return meta


def _dataset_asset(spec: DatasetSpec) -> dg.AssetsDefinition:
    name, asset_name, build = spec.name, spec.asset, spec.build
    check = dg.AssetCheckSpec("no_residual_pii", asset=asset_name, blocking=True,
                              description="the independent residual detector rescans every text of the new "
                              "version; any finding stops training")

    @dg.asset(name=asset_name, group_name=GROUP, deps=["sanitized_documents"], description=spec.description,
              kinds={"parquet", "polars"}, tags={"stage": GROUP}, owners=["team:ml-platform"], check_specs=[check],
              metadata={"zone": "datasets (no personal data)", "dataset": name})
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, pii: PiiEngineResource,
               configs: StageConfigsResource) -> dg.MaterializeResult:
        the_lake = lake.lake()
        config = configs.get("datasets")
        # a language-model dataset plants canaries derived from the pseudonym key (canaries.py)
        built = build(the_lake, config, pii.pseudonym_key().secret) if spec.canaries else build(the_lake, config)
        context.log.info(f"{name} version {built.version.version} "
                         f"({'unchanged' if built.version.reused else 'new'}): {built.version.rows}")
        passed, meta = check_dataset_residual(the_lake, name, built.version.version)
        record_residual(the_lake, name, built.version.version, passed, meta)
        return dg.MaterializeResult(metadata=dataset_metadata(built), check_results=[
            dg.AssetCheckResult(check_name="no_residual_pii", passed=passed, metadata=meta,
                                severity=dg.AssetCheckSeverity.ERROR)])

    return _asset


@dg.asset(group_name=GROUP, deps=["sanitized_records", "sanitized_documents", *(d.asset for d in DATASETS.values())],
          pool="duckdb",
          kinds={"duckdb"}, tags={"stage": GROUP}, owners=["team:data-platform"],
          description="A DuckDB catalog of the shareable zones: the sanitized tables (rows of the classifications "
          "the policy shows) and PII audit ledgers, views over the current version of every dataset split (never "
          "a private zone). One writer at a time (pool `duckdb`). Query: `waterworks query \"SELECT …\"` "
          "(one SELECT, sandboxed).")
def lake_catalog(context: dg.AssetExecutionContext, lake: LakeResource,
                 governance: GovernanceResource) -> dg.MaterializeResult:
    from pathlib import Path

    from .catalog import build_catalog

    shown = governance.policy().catalog_classifications()
    catalog = build_catalog(lake.lake(), Path(lake.catalog_file), shown)
    context.log.info(f"catalog {catalog.path}: {len(catalog.views)} views"
                     f"{' (unchanged)' if catalog.unchanged else ''}")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(catalog.path)),
        "rewritten": not catalog.unchanged,
        "views": dg.MetadataValue.md(md_table(("view", "rows"), sorted(catalog.views.items()))),
        "datasets": dg.MetadataValue.json(catalog.datasets),
        "classifications_shown": ", ".join(shown),
    })


def datasets_assets() -> list[dg.AssetsDefinition]:
    return [lake_catalog, *(_dataset_asset(spec) for spec in DATASETS.values())]
