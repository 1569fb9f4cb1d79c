"""The asset factory: every product of assets/products.py becomes its assets —

- ``<product>`` (group training): trains it from its dataset with its recipe, logs its MLflow run;
- ``<product.evaluation>``: scores it on held-out data into ``evaluation.json`` and its run (unless the product
  is evaluated by an asset of its own: the language models share ``lm_evaluation``);
- ``training_policy_<product>``: the blocking check, on its dataset, that the policy lets that data feed it
  (a product that brings its own data is checked by its training asset before it trains);
- registered products: ``registered_<product>`` (alias ``candidate``) and ``champion_<product>`` (the quality,
  privacy and policy gates); the deployment bundles (distribution/defs.py) take every champion.

The assets are thin: training, evaluation, tracking, registration and promotion are plain functions of
training/, tracking.py and distribution/."""


import getpass
import sys
from pathlib import Path

import dagster as dg

from .datasets.build import dataset_asset
from .datasets.store import read_card
from .metadata import md_table
from .products import PRODUCTS, Product
from .resources import (
    DistributionResource,
    GovernanceResource,
    LakeResource,
    MlflowResource,
    TrainingResource,
)
from .training.artifacts import (
    ModelArtifact,
    current_model,
    load_artifact,
    read_evaluation,
    remembered_result,
    source_digest,
)
from .training.policy import training_decision

TRAINING, DISTRIBUTION = "training", "distribution"
POOL = "gpu"  # training steps share it (limit 1: one training at a time)


def stage_args(group: str) -> dict:
    return {"group_name": group, "tags": {"stage": group}, "owners": ["team:ml-platform"]}


class TrainingRefused(RuntimeError):
    """The data-use policy does not let a product's data feed it."""


def model_metadata(artifact: ModelArtifact) -> dict:
    s = artifact.summary
    keys = ("parameters", "trainable_parameters", "steps", "tokens", "tokens_per_s", "examples_per_s", "seconds",
            "first_loss", "last_loss", "perplexity", "perplexity_before", "val_accuracy", "val_macro_f1",
            "probe_val_accuracy", "examples", "final_loss")
    meta = {k: s[k] for k in keys if isinstance(s.get(k), int | float)}
    datasets = artifact.lineage.get("datasets", [])
    meta.update({
        "path": dg.MetadataValue.path(str(artifact.path)),
        "model_key": artifact.key,
        "retrained": not artifact.reused,
        "device": s.get("runtime", {}).get("device", "?"),
        "dataset": ", ".join(f"{d['name']}@{d['version']}" for d in datasets),
        "code_version": artifact.lineage.get("code_version", "unknown"),
    })
    base = artifact.lineage.get("base_model")
    if base:
        meta["base_model"] = f"{base['origin']} (sha256 {base['sha256'][:12]})"
    return meta


def _dagster_tags(context: dg.AssetExecutionContext) -> dict[str, str]:
    return {"dagster.run_id": context.run.run_id, "dagster.asset_key": context.asset_key.to_user_string()}


def track(context: dg.AssetExecutionContext, mlflow: MlflowResource, lake, artifact: ModelArtifact) -> dict:
    """One MLflow run per trained model folder (reused with the folder); metadata linking to it."""
    from .tracking import log_training_run

    client = mlflow.client()
    experiment_id = mlflow.experiment_id(client)
    run_id, reused = log_training_run(client, experiment_id, lake, artifact, _dagster_tags(context))
    context.log.info(f"MLflow run {run_id} ({'existing' if reused else 'logged'}) for {artifact.name} {artifact.key}")
    return {"mlflow_run_id": run_id, "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id))}


def record_evaluation(mlflow: MlflowResource, name: str, folder: Path, evaluation: dict) -> None:
    """``evaluation.json`` in the model folder and its metrics in the model's MLflow run."""
    from .tracking import record_evaluation as record

    client = mlflow.client()
    record(client, mlflow.experiment_id(client), name, folder, evaluation)


def progress_log(context):
    """Training progress to the Dagster log (the UI) and to stdout (the console of `waterworks run`)."""
    def log(line: str) -> None:
        context.log.info(line)
        print(f"  {line}", flush=True)

    return log


def fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)


def _training_asset(product: Product) -> dg.AssetsDefinition:
    deps = [*([dataset_asset(product.dataset)] if product.dataset else []), *product.deps]

    @dg.asset(name=product.name, deps=deps, pool=POOL, kinds=set(product.kinds), **stage_args(TRAINING),
              description=product.description)
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
               mlflow: MlflowResource, governance: GovernanceResource) -> dg.MaterializeResult:
        the_lake = lake.lake()
        if product.dataset is None:  # no dataset asset to hold the blocking policy check: decided here, first
            decision = training_decision(the_lake, product, governance.policy())
            if not decision.passed:
                raise TrainingRefused(f"{product.name}: {decision.reason}")
        artifact = product.train(training.request(the_lake, progress_log(context)))
        return dg.MaterializeResult(metadata={**model_metadata(artifact), **track(context, mlflow, the_lake,
                                                                                 artifact)})

    return _asset


def data_version(lake, product: Product) -> str:
    return product.brought_data()["version"] if product.dataset is None else read_card(lake, product.dataset)[
        "version"]


def _evaluation_asset(product: Product) -> dg.AssetsDefinition:
    deps = [product.name, *([dataset_asset(product.dataset)] if product.dataset else [])]
    # the evaluation's code: its module's EVALUATION_CODE (the files its result depends on), else the module
    module = sys.modules[product.evaluate.__module__]
    code = source_digest(*getattr(module, "EVALUATION_CODE", (Path(module.__file__),)))

    @dg.asset(name=product.evaluation, deps=deps, kinds={"pytorch"}, **stage_args(TRAINING),
              description=f"{product.name} scored on held-out data it was not trained or tuned on; the quality "
              f"gate compares `{product.quality.metric if product.quality else 'n/a'}`.")
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
               mlflow: MlflowResource) -> dg.MaterializeResult:
        the_lake, models_dir = lake.lake(), Path(training.models_dir)
        folder = current_model(models_dir, product.name)
        inputs = {"model": folder.name, "data": data_version(the_lake, product), "device": training.device,
                  "code": code}
        evaluation, reused = remembered_result(models_dir, product.evaluation, inputs,
                                               lambda: product.evaluate(the_lake, folder, training.device))
        if not reused or not (folder / "evaluation.json").is_file():
            record_evaluation(mlflow, product.name, folder, evaluation)
        metrics = {k: v for k, v in evaluation["metrics"].items() if isinstance(v, int | float)}
        context.log.info(f"{product.name}: {metrics}")
        meta = {**metrics, "dataset_version": evaluation["dataset_version"], "remembered": reused}
        for by, rows in evaluation.get("breakdown", {}).items():
            columns = sorted({k for row in rows.values() for k in row})
            meta[f"by {by}"] = dg.MetadataValue.md(md_table((by, *columns), [
                (name, *(fmt(row.get(c, "—")) for c in columns)) for name, row in rows.items()]))
        return dg.MaterializeResult(metadata=meta)

    return _asset


def _training_policy_check(product: Product) -> dg.AssetChecksDefinition:
    dataset = dataset_asset(product.dataset)

    @dg.asset_check(asset=dataset, name=f"training_policy_{product.name}", blocking=True,
                    description=f"The data-use policy lets every data classification in {dataset} feed "
                    f"{product.name} (governance/policy.yaml, `training`); if not, {product.name} is not trained.")
    def _check(lake: LakeResource, governance: GovernanceResource) -> dg.AssetCheckResult:
        decision = training_decision(lake.lake(), product, governance.policy())
        return dg.AssetCheckResult(
            passed=decision.passed, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"decision": decision.reason, "dataset": decision.dataset,
                      "classifications": ", ".join(f"{k}={v}" for k, v in sorted(decision.classifications.items())),
                      "allowed": ", ".join(decision.allowed) or "none",
                      "refused": ", ".join(decision.refused) or "none"})

    return _check


def _registration_asset(product: Product) -> dg.AssetsDefinition:
    @dg.asset(name=f"registered_{product.name}", deps=[product.name, product.evaluation], kinds={"mlflow"},
              **stage_args(DISTRIBUTION),
              description=f"The current {product.name} logged to MLflow in its training run and registered as "
              f"{product.registered_name} (once per trained folder) with alias `candidate`; tags carry its "
              "held-out score, dataset and lineage.")
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
               mlflow: MlflowResource, distribution: DistributionResource) -> dg.MaterializeResult:
        from .distribution.promotion import register_candidate

        plan = distribution.config().plan(product.name)
        artifact = load_artifact(current_model(Path(training.models_dir), product.name))
        client = mlflow.client()
        experiment_id = mlflow.experiment_id(client)
        version, created, run_id, metric = register_candidate(
            client, experiment_id, mlflow.tracking_uri, lake.lake(), plan, artifact, read_evaluation(artifact.path),
            lambda uri, run: product.log_model(uri, run, artifact.path / product.logged_folder),
            _dagster_tags(context))
        context.log.info(f"{plan.registered_name} version {version.version} "
                         f"({'registered' if created else 'already registered'}) is the candidate")
        return dg.MaterializeResult(metadata={
            "registered_model": plan.registered_name, "version": int(version.version), "alias": "candidate",
            "newly_registered": created, "model_uri": f"models:/{plan.registered_name}@candidate",
            plan.quality.metric: metric if metric is not None else "n/a",
            "mlflow_model": dg.MetadataValue.url(mlflow.model_url(plan.registered_name, version.version)),
            "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id))})

    return _asset


def _champion_asset(product: Product) -> dg.AssetsDefinition:
    asset_name = f"champion_{product.name}"
    checks = [dg.AssetCheckSpec("promotion_gates", asset=asset_name,
                                description="quality, privacy and policy gates all passed for the candidate "
                                "(a refusal keeps the previous champion)"),
              dg.AssetCheckSpec("deployment_policy", asset=asset_name, blocking=True,
                                description="the most restrictive data classification in the candidate's lineage "
                                "allows every deployment target it is meant for; a refusal stops the bundles")]

    @dg.asset(name=asset_name, deps=[f"registered_{product.name}"], kinds={"mlflow"}, **stage_args(DISTRIBUTION),
              check_specs=checks,
              description=f"Promotion of the {product.name} candidate to alias `champion` through three gates: "
              "quality (beats the champion on the same held-out data), privacy (residual scan, canaries), policy "
              "(its data classification allows its deployment targets). Refusals keep the previous champion; a "
              "policy refusal also fails the blocking `deployment_policy` check, so no bundle is built in that run.")
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
               mlflow: MlflowResource, distribution: DistributionResource,
               governance: GovernanceResource) -> dg.MaterializeResult:
        from .distribution.promotion import decide_promotion
        from .distribution.registry import promotion_ledger

        plan = distribution.config().plan(product.name)
        artifact = load_artifact(current_model(Path(training.models_dir), product.name))
        the_lake = lake.lake()
        actor = f"{getpass.getuser()} via Dagster run {context.run.run_id}"
        promotion = decide_promotion(mlflow.client(), mlflow.tracking_uri, the_lake, plan, governance.policy(),
                                     artifact.lineage, read_evaluation(artifact.path),
                                     lambda folder: product.gate_metric(the_lake, folder), actor,
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


def product_assets(stage: str, products: tuple[Product, ...] = PRODUCTS) -> list[dg.AssetsDefinition]:
    """The products' assets of one stage: ``training`` (train, evaluate) or ``distribution`` (register,
    promote)."""
    assets = []
    for product in products:
        if stage == TRAINING:
            assets.append(_training_asset(product))
            if product.evaluate is not None:
                assets.append(_evaluation_asset(product))
        elif stage == DISTRIBUTION and product.registered:
            assets += [_registration_asset(product), _champion_asset(product)]
    return assets


def product_checks(products: tuple[Product, ...] = PRODUCTS) -> list[dg.AssetChecksDefinition]:
    """One blocking policy check per product trained from a lake dataset, on that dataset."""
    return [_training_policy_check(p) for p in products if p.dataset is not None]

