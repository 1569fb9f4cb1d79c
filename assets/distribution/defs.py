"""Dagster definitions of the distribution stage: per registered task, ``registered_<model>`` (logged into its
training run and registered with alias ``candidate``) and ``champion_<model>`` (the promotion gates; alias
``champion`` only when quality, privacy and policy all pass); then one bundle asset per deployment target —
``server_bundle`` (private cloud), ``edge_bundle``, ``cloud_bundle`` (public cloud) — built from the
champions the registry holds."""

import getpass
import tempfile
from pathlib import Path

import dagster as dg

from ..metadata import md_table
from ..resources import (
    DistributionResource,
    GovernanceResource,
    LakeResource,
    MlflowResource,
    TrainingResource,
)
from ..training.artifacts import ModelArtifact, current_model, load_artifact, read_evaluation
from .bundles import (
    CLOUD,
    EDGE,
    SERVER,
    TARGET_OF,
    Bundle,
    build_chat_server,
    build_cloud,
    build_edge,
    build_pyfunc_server,
    provenance,
    write_bundle,
)
from .lineage import run_lineage
from .promotion import DATASET_TAG, decide_promotion, metric_tag
from .registry import CHAMPION, alias_version, download_model, hf_folder_of, promotion_ledger, register
from .tasks import TASKS, Task
from .tracking import log_training_run

GROUP = "distribution"
_COMMON = {"group_name": GROUP, "tags": {"stage": GROUP}, "owners": ["team:ml-platform"]}


def _artifact(training: TrainingResource, name: str) -> ModelArtifact:
    return load_artifact(current_model(Path(training.models_dir), name))


def _registration_asset(task: Task) -> dg.AssetsDefinition:
    @dg.asset(name=f"registered_{task.model}", deps=[task.model, task.evaluation], kinds={"mlflow"}, **_COMMON,
              description=f"The current {task.model} logged to MLflow in its training run and registered (once per "
              "trained folder) with alias `candidate`; tags carry its test score, dataset and lineage.")
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
               mlflow: MlflowResource, distribution: DistributionResource) -> dg.MaterializeResult:
        plan = distribution.config().plan(task.model)
        artifact = _artifact(training, task.model)
        evaluation = read_evaluation(artifact.path)
        client = mlflow.client()
        experiment_id = mlflow.experiment_id(client)
        run_id, _ = log_training_run(client, experiment_id, lake.lake(), artifact, {
            "dagster.run_id": context.run.run_id, "dagster.asset_key": context.asset_key.to_user_string()})
        metric = evaluation["metrics"].get(plan.quality.metric)
        tags = {DATASET_TAG: evaluation["dataset_version"], metric_tag(plan.quality.metric): str(metric),
                "waterworks.datasets": ", ".join(f"{d['name']}@{d['version']}"
                                                 for d in artifact.lineage.get("datasets", [])),
                "waterworks.code_version": artifact.lineage.get("code_version", "unknown"),
                "dagster.run_id": context.run.run_id}
        version, created = register(client, mlflow.tracking_uri, plan.registered_name, artifact, run_id,
                                    lambda uri, run: task.log_model(uri, run, task.logged_folder(artifact.path)),
                                    tags)
        context.log.info(f"{plan.registered_name} version {version.version} "
                         f"({'registered' if created else 'already registered'}) is the candidate")
        return dg.MaterializeResult(metadata={
            "registered_model": plan.registered_name, "version": int(version.version), "alias": "candidate",
            "newly_registered": created, "model_uri": f"models:/{plan.registered_name}@candidate",
            plan.quality.metric: metric if metric is not None else "n/a",
            "mlflow_model": dg.MetadataValue.url(mlflow.model_url(plan.registered_name, version.version)),
            "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id))})

    return _asset


def _champion_asset(task: Task) -> dg.AssetsDefinition:
    asset_name = f"champion_{task.model}"
    checks = [dg.AssetCheckSpec("promotion_gates", asset=asset_name,
                                description="quality, privacy and policy gates all passed for the candidate "
                                "(a refusal keeps the previous champion)"),
              dg.AssetCheckSpec("deployment_policy", asset=asset_name, blocking=True,
                                description="the most restrictive data classification in the candidate's lineage "
                                "allows every deployment target it is meant for; a refusal stops the bundles")]

    @dg.asset(name=asset_name, deps=[f"registered_{task.model}"], kinds={"mlflow"}, **_COMMON,
              check_specs=checks,
              description=f"Promotion of the {task.model} candidate to alias `champion` through three gates: quality "
              "(beats the champion on the same test split), privacy (residual scan, canaries), policy (its data "
              "classification allows its deployment targets). Refusals keep the previous champion; a policy "
              "refusal also fails the blocking `deployment_policy` check, so no bundle is built in that run.")
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
               mlflow: MlflowResource, distribution: DistributionResource,
               governance: GovernanceResource) -> dg.MaterializeResult:
        plan = distribution.config().plan(task.model)
        artifact = _artifact(training, task.model)
        the_lake = lake.lake()
        actor = f"{getpass.getuser()} via Dagster run {context.run.run_id}"
        promotion = decide_promotion(mlflow.client(), mlflow.tracking_uri, the_lake, plan, governance.policy(),
                                     artifact.lineage, read_evaluation(artifact.path),
                                     lambda folder: task.rescore(the_lake, folder), actor,
                                     promotion_ledger(Path(training.models_dir)))
        verdict = "promoted to champion" if promotion.promoted else "refused"
        context.log.info(f"{plan.registered_name} version {promotion.version}: {verdict} — "
                         + "; ".join(f"{g.gate}: {g.reason}" for g in promotion.gates))
        gates = md_table(("gate", "result", "reason"), [(g.gate, "passed" if g.passed else "REFUSED", g.reason)
                                                         for g in promotion.gates])
        policy = next(g for g in promotion.gates if g.gate == "policy")
        return dg.MaterializeResult(
            metadata={"candidate_version": int(promotion.version), "promoted": promotion.promoted,
                      "champion_version": promotion.champion or "none", "gates": dg.MetadataValue.md(gates),
                      "decision": dg.MetadataValue.json(promotion.as_dict())},
            check_results=[
                dg.AssetCheckResult(
                    check_name="promotion_gates", passed=promotion.promoted, severity=dg.AssetCheckSeverity.WARN,
                    metadata={g.gate: ("passed: " if g.passed else "refused: ") + g.reason for g in promotion.gates}),
                dg.AssetCheckResult(
                    check_name="deployment_policy", passed=policy.passed, severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"decision": policy.reason, "version": str(promotion.version),
                              **{k: ", ".join(v) if isinstance(v, list) else v
                                 for k, v in policy.evidence.items()}})])

    return _asset


def champion_bundles(target: str, lake, mlflow: MlflowResource, distribution: DistributionResource, policy,
                     log) -> tuple[list[Bundle], list[tuple[str, str]]]:
    """Bundles of every champion meant for ``target``; (bundles, [(model, why it was left out)])."""
    config = distribution.config()
    client = mlflow.client()
    bundles, skipped = [], []
    for task in TASKS.values():
        plan = config.plan(task.model)
        if TARGET_OF[target] not in plan.targets:
            skipped.append((task.model, f"not meant for {TARGET_OF[target]} (targets: {', '.join(plan.targets)})"))
            continue
        if target == EDGE and not task.edge:
            skipped.append((task.model, "no edge export for it yet"))
            continue
        champion = alias_version(client, plan.registered_name, CHAMPION)
        if champion is None:
            skipped.append((task.model, "no champion (promotion refused or not run)"))
            continue
        with tempfile.TemporaryDirectory() as scratch:
            lineage = run_lineage(client, champion.run_id)
            header = provenance(plan.registered_name, champion, lineage, policy, target)
            if TARGET_OF[target] not in header["allowed_targets"]:
                skipped.append((task.model, f"policy: {header['classification']} data may not go to "
                                f"{TARGET_OF[target]}"))
                continue
            mlflow_model = download_model(plan.registered_name, champion.version, mlflow.tracking_uri,
                                          Path(scratch) / "model")
            if target == SERVER:
                build = (build_chat_server(hf_folder_of(mlflow_model), plan.registered_name, config.bundles.server)
                         if task.server == "vllm" else build_pyfunc_server(mlflow_model))
            elif target == EDGE:
                from ..datasets.build import CLASSIFICATION
                from ..datasets.store import read_split

                texts = read_split(lake, CLASSIFICATION, "test")["text"].to_list()[:config.bundles.edge.parity_examples]
                build = build_edge(hf_folder_of(mlflow_model), config.bundles.edge, texts)
            else:
                build = build_cloud(mlflow_model, f"models:/{plan.registered_name}@{CHAMPION}")
            bundle = write_bundle(Path(distribution.bundles_dir), target, plan.registered_name, champion.version,
                                  header, build)
        log(f"{target} bundle of {plan.registered_name} v{champion.version}: {bundle.path} "
            f"({bundle.bytes / 1e6:.1f} MB{', existing' if bundle.reused else ''})")
        bundles.append(bundle)
    return bundles, skipped


def _bundle_asset(target: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(name=f"{target}_bundle", deps=[f"champion_{t}" for t in TASKS], kinds={"mlflow", *(
        {"onnx"} if target == EDGE else set())}, **_COMMON, description=description)
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, mlflow: MlflowResource,
               distribution: DistributionResource, governance: GovernanceResource) -> dg.MaterializeResult:
        bundles, skipped = champion_bundles(target, lake.lake(), mlflow, distribution, governance.policy(),
                                            context.log.info)
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
        *[_registration_asset(task) for task in TASKS.values()],
        *[_champion_asset(task) for task in TASKS.values()],
        _bundle_asset(SERVER, "Private-cloud bundles of the champions: the chat model as merged safetensors, "
                      "tokenizer, chat template and a vLLM config; the classifier as its MLflow pyfunc model; "
                      "each with serve.sh and a manifest (sha256 of every file, lineage, classification)."),
        _bundle_asset(EDGE, "Edge bundle of the intent classifier champion: int8 ONNX (onnxruntime), tokenizer, "
                      "labels, and the parity check of the export against PyTorch on the same test texts."),
        _bundle_asset(CLOUD, "Public-cloud bundles: the registry URI of each champion allowed on public cloud, "
                      "with the sha256 of its registered files and deployment commands."),
    ]
