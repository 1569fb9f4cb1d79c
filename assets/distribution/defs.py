"""Dagster definitions of the distribution stage beyond each registered product's ``registered_<product>`` and
``champion_<product>`` (assets/factory.py): one bundle asset per deployment target — ``server_bundle``
(private cloud), ``edge_bundle``, ``cloud_bundle`` (public cloud) — built from the champions the registry
holds (distribution/bundles.py ``champion_bundles``)."""

from pathlib import Path

import dagster as dg

from ..factory import DISTRIBUTION, stage_args
from ..metadata import md_table
from ..products import registered_products
from ..resources import DistributionResource, GovernanceResource, LakeResource, MlflowResource
from .bundles import CLOUD, EDGE, SERVER, TARGET_OF, champion_bundles


def _bundle_asset(target: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(name=f"{target}_bundle", deps=[f"champion_{p.name}" for p in registered_products()], kinds={"mlflow", *(
        {"onnx"} if target == EDGE else set())}, **stage_args(DISTRIBUTION), description=description)
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, mlflow: MlflowResource,
               distribution: DistributionResource, governance: GovernanceResource) -> dg.MaterializeResult:
        bundles, skipped = champion_bundles(target, lake.lake(), mlflow.client(), mlflow.tracking_uri,
                                            distribution.config(), Path(distribution.bundles_dir),
                                            governance.policy(), context.log.info)
        rows = [(b.name, b.version, b.manifest["classification"], f"{b.bytes / 1e6:.1f} MB", str(b.path))
                for b in bundles]
        meta = {"target": TARGET_OF[target], "bundles": len(bundles),
                "contents": dg.MetadataValue.md(md_table(("model", "version", "classification", "size", "path"),
                                                          rows)),
                "left_out": dg.MetadataValue.md(md_table(("model", "reason"), skipped)) if skipped else "none"}
        if target == EDGE:
            for b in bundles:
                meta["parity_int8"] = dg.MetadataValue.json(b.manifest["parity"]["int8"])
        return dg.MaterializeResult(metadata=meta)

    return _asset


def distribution_assets() -> list[dg.AssetsDefinition]:
    return [
        _bundle_asset(SERVER, "Private-cloud bundles of the champions: the chat model as merged safetensors, "
                      "tokenizer, chat template and a vLLM config; the classifier as its MLflow pyfunc model; "
                      "each with serve.sh and a manifest (sha256 of every file, lineage, classification)."),
        _bundle_asset(EDGE, "Edge bundle of the intent classifier champion: int8 ONNX (onnxruntime), tokenizer, "
                      "labels, and the parity check of the export against PyTorch on the same test texts."),
        _bundle_asset(CLOUD, "Public-cloud bundles: the registry URI of each champion allowed on public cloud, "
                      "with the sha256 of its registered files and deployment commands."),
    ]
