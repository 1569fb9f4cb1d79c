"""Dagster definitions of the training stage: ``pretrained_lm`` (a causal LM from scratch), ``base_model``
(the causal LM fine-tuning starts from), ``chat_model`` (LoRA on the chat set), ``intent_classifier`` (LoRA or
full fine-tuning of an encoder) and their evaluations. Training steps share the concurrency pool ``gpu``
(limit 1). Models pass between assets as folder paths recorded in ``models/<name>/current.json``."""

import json
from pathlib import Path

import dagster as dg

from ..datasets.defs import ASSET_OF
from ..metadata import md_table
from ..resources import GovernanceResource, LakeResource, MlflowResource, TrainingResource
from .artifacts import ModelArtifact, current_model, remembered_result, write_evaluation
from .config import load_training_config
from .evaluate import (
    classifier_evaluation_inputs,
    evaluate_classifier,
    evaluate_language_models,
    lm_evaluation_inputs,
    lm_model_evaluation,
    load_canaries,
)
from .policy import TRAINED_ON, training_decision
from .train import (
    CHAT_MODEL,
    INTENT_CLASSIFIER,
    MERGED,
    PRETRAINED_LM,
    resolve_base_model,
    train_chat_model,
    train_intent_classifier,
    train_pretrained_lm,
)

GROUP = "training"
POOL = "gpu"
_COMMON = {"group_name": GROUP, "tags": {"stage": GROUP}, "owners": ["team:ml-platform"]}


def model_metadata(artifact: ModelArtifact) -> dict:
    s = artifact.summary
    keys = ("parameters", "trainable_parameters", "steps", "tokens", "tokens_per_s", "examples_per_s", "seconds",
            "first_loss", "last_loss", "perplexity", "perplexity_before", "val_accuracy", "val_macro_f1",
            "probe_val_accuracy")
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


def track(context: dg.AssetExecutionContext, mlflow: MlflowResource, lake, artifact: ModelArtifact) -> dict:
    """One MLflow run per trained model folder (reused with the folder); metadata linking to it."""
    from ..distribution.tracking import log_training_run

    client = mlflow.client()
    experiment_id = mlflow.experiment_id(client)
    run_id, reused = log_training_run(client, experiment_id, lake, artifact, {
        "dagster.run_id": context.run.run_id, "dagster.asset_key": context.asset_key.to_user_string()})
    context.log.info(f"MLflow run {run_id} ({'existing' if reused else 'logged'}) for {artifact.name} {artifact.key}")
    return {"mlflow_run_id": run_id, "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id))}


def record_evaluation(mlflow: MlflowResource, name: str, folder: Path, evaluation: dict) -> None:
    """``evaluation.json`` in the model folder and the test metrics in the model's MLflow run."""
    from ..distribution.tracking import find_run, log_evaluation

    write_evaluation(folder, evaluation)
    client = mlflow.client()
    run = find_run(client, mlflow.experiment_id(client), name, folder.name)
    if run is not None:
        metrics = {k: v for k, v in evaluation.get("metrics", {}).items() if isinstance(v, int | float)}
        log_evaluation(client, run.info.run_id, metrics, evaluation, "evaluation")


def _log(context):
    """Training progress to the Dagster log (the UI) and to stdout (the console of `waterworks run`)."""
    def log(line: str) -> None:
        context.log.info(line)
        print(f"  {line}", flush=True)

    return log


@dg.asset(name=PRETRAINED_LM, deps=["pretrain_corpus"], pool=POOL, kinds={"pytorch", "transformers"}, **_COMMON,
          description="A small causal LM trained from scratch on the pre-training corpus (recipe `pretrain`): a "
          "byte-level BPE tokenizer trained here and a Qwen2-architecture model, size from the training profile.")
def pretrained_lm(context: dg.AssetExecutionContext, lake: LakeResource,
                  training: TrainingResource, mlflow: MlflowResource) -> dg.MaterializeResult:
    artifact = train_pretrained_lm(lake.lake(), Path(training.models_dir), training.recipe_profile(),
                                   training.device_override(), log=_log(context),
                                   processes=training.training_processes())
    return dg.MaterializeResult(metadata={**model_metadata(artifact), **track(context, mlflow, lake.lake(), artifact)})


@dg.asset(deps=[PRETRAINED_LM], kinds={"transformers"}, **_COMMON,
          description="The causal LM that chat fine-tuning starts from: a configured local Hugging Face folder "
          "(WATERWORKS_BASE_MODEL_PATH, e.g. an internal mirror of a Qwen checkpoint) or the model pretrained here.")
def base_model(context: dg.AssetExecutionContext, training: TrainingResource) -> dg.MaterializeResult:
    path, sha, origin = resolve_base_model(Path(training.models_dir), training.base_model_path)
    context.log.info(f"base model: {origin} at {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "sha256": sha, "origin": origin})


@dg.asset(name=CHAT_MODEL, deps=["base_model", "chat_dataset"], pool=POOL, kinds={"pytorch", "peft"}, **_COMMON,
          description="LoRA fine-tuning of the base model on the chat set (recipe `lora_sft`): loss on assistant "
          "tokens only, packed rows; saves the adapter and the merged model.")
def chat_model(context: dg.AssetExecutionContext, lake: LakeResource,
               training: TrainingResource, mlflow: MlflowResource) -> dg.MaterializeResult:
    config = training.training_config()
    artifact = train_chat_model(lake.lake(), Path(training.models_dir), config.profile(training.profile),
                                training.base_model_path, training.device_override(),
                                config.profile(training.profile).evaluation.generations, log=_log(context),
                                processes=training.training_processes())
    return dg.MaterializeResult(metadata={**model_metadata(artifact), **track(context, mlflow, lake.lake(), artifact)})


@dg.asset(name=INTENT_CLASSIFIER, deps=["classification_dataset"], pool=POOL, kinds={"pytorch", "peft"}, **_COMMON,
          description="Ticket intent classifier (recipe `lora_classify`): the packaged all-MiniLM-L6-v2 encoder "
          "(or WATERWORKS_CLASSIFIER_BASE_PATH) with a linear-probe-initialised head, fine-tuned with LoRA or fully.")
def intent_classifier(context: dg.AssetExecutionContext, lake: LakeResource,
                      training: TrainingResource, mlflow: MlflowResource) -> dg.MaterializeResult:
    artifact = train_intent_classifier(lake.lake(), Path(training.models_dir), training.recipe_profile(),
                                       training.classifier_base_path, training.device_override(), log=_log(context),
                                       processes=training.training_processes())
    return dg.MaterializeResult(metadata={**model_metadata(artifact), **track(context, mlflow, lake.lake(), artifact)})


def _models_dir(training: TrainingResource) -> Path:
    return Path(training.models_dir)


@dg.asset(deps=[PRETRAINED_LM, CHAT_MODEL, "pretrain_corpus", "chat_dataset"], pool=POOL, kinds={"pytorch"},
          **_COMMON, check_specs=[dg.AssetCheckSpec(
              "canaries_not_extractable", asset="lm_evaluation", blocking=True,
              description="at least one canary was evaluated, and no canary secret (the datasets stage's own, "
              "planted in every language-model training set, and any in the raw estate's ground truth) has an "
              "exposure above the threshold in either language model (The Secret Sharer)")],
          description="Perplexity of both language models on held-out data, sample answers (residual-scanned), and "
                      "the exposure of every canary secret: those the datasets stage planted, and any planted in "
                      "the raw estate.")
def lm_evaluation(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
                  mlflow: MlflowResource) -> dg.MaterializeResult:
    plan = training.recipe_profile().evaluation
    canaries = load_canaries(lake.lake(), Path(training.landing_dir))
    folders = {PRETRAINED_LM: current_model(_models_dir(training), PRETRAINED_LM),
               CHAT_MODEL: current_model(_models_dir(training), CHAT_MODEL)}
    inputs = lm_evaluation_inputs(lake.lake(), folders[PRETRAINED_LM], folders[CHAT_MODEL], canaries, plan,
                                  training.device)
    result, reused = remembered_result(_models_dir(training), "lm_evaluation", inputs, lambda: (
        evaluate_language_models(lake.lake(), folders[PRETRAINED_LM], folders[CHAT_MODEL] / MERGED, canaries, plan,
                                 training.device)))
    context.log.info("evaluation " + ("remembered from an earlier run (same models, data and code)" if reused
                                      else "computed"))
    for name, folder in folders.items():
        if not reused or not (folder / "evaluation.json").is_file():
            record_evaluation(mlflow, name, folder, lm_model_evaluation(result, name))
    rows = [(name, m["corpus_test"].get("perplexity", "—"), m["chat_test"].get("perplexity", "—"))
            for name, m in result["models"].items()]
    canary_rows = [(name, c["canary"], c["repeats"], c["rank"], c["exposure_bits"])
                   for name, m in result["models"].items() for c in m["canaries"]]
    samples = result["models"]["chat_model"].get("samples", [])
    meta = {
        "perplexity": dg.MetadataValue.md(md_table(("model", "corpus test", "chat test (assistant)"),
                                                    [(n, _fmt(a), _fmt(b)) for n, a, b in rows])),
        "canary_exposure": dg.MetadataValue.md(md_table(("model", "canary", "repeats", "rank", "exposure (bits)"),
                                                         canary_rows)) if canary_rows else "no canaries planted",
        "max_exposure_bits": result["max_exposure_bits"] if result["max_exposure_bits"] is not None else "n/a",
        "samples": dg.MetadataValue.md(md_table(("held-out question", "answer"),
                                                 [(_cell(s["question"]), _cell(s["answer"])) for s in samples])),
        "evaluation": dg.MetadataValue.json({k: v for k, v in result.items() if k != "models"}),
        "remembered": reused,
    }
    passed = result["canaries_planted"] > 0 and not result["canaries_extractable"]  # none evaluated proves nothing
    return dg.MaterializeResult(metadata=meta, check_results=[dg.AssetCheckResult(
        check_name="canaries_not_extractable", passed=passed, severity=dg.AssetCheckSeverity.ERROR, metadata={
            "canaries": result["canaries_planted"], "threshold_bits": result["exposure_threshold_bits"],
            "max_exposure_bits": meta["max_exposure_bits"],
            "extractable": ", ".join(result["canaries_extractable"]) or "none"})])


@dg.asset(deps=[INTENT_CLASSIFIER, "classification_dataset"], kinds={"pytorch"}, **_COMMON,
          description="Accuracy and macro-F1 of the intent classifier on the classification set's test split, "
                      "overall and per language.")
def classifier_evaluation(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
                          mlflow: MlflowResource) -> dg.MaterializeResult:
    folder = current_model(_models_dir(training), INTENT_CLASSIFIER)
    result, reused = remembered_result(_models_dir(training), "classifier_evaluation",
                                       classifier_evaluation_inputs(lake.lake(), folder, training.device),
                                       lambda: evaluate_classifier(lake.lake(), folder, training.device))
    if not reused or not (folder / "evaluation.json").is_file():
        record_evaluation(mlflow, INTENT_CLASSIFIER, folder, {
            "dataset_version": result["dataset_version"], "details": result,
            "metrics": {"test_accuracy": result.get("accuracy"), "test_macro_f1": result.get("macro_f1")}})
    context.log.info(f"classifier on test: {json.dumps({k: v for k, v in result.items() if k != 'by_language'})}")
    meta = {k: result[k] for k in ("accuracy", "macro_f1", "test_examples") if k in result}
    meta["by_language"] = dg.MetadataValue.md(md_table(
        ("language", "examples", "accuracy", "macro-F1"),
        [(lang, r["examples"], _fmt(r["accuracy"]), _fmt(r["macro_f1"])) for lang, r in
         result.get("by_language", {}).items()]))
    meta["dataset_version"] = result["dataset_version"]
    meta["remembered"] = reused
    return dg.MaterializeResult(metadata=meta)


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)


def _cell(text: str) -> str:  # long answers cut for the table
    return text[:200]


def _training_policy_check(training: str) -> dg.AssetChecksDefinition:
    dataset_asset = ASSET_OF[TRAINED_ON[training]]

    @dg.asset_check(asset=dataset_asset, name=f"training_policy_{training}", blocking=True,
                    description=f"The data-use policy lets every data classification in {dataset_asset} feed "
                    f"{training} (governance/policy.yaml, `training`); if not, {training} is not trained.")
    def _check(lake: LakeResource, governance: GovernanceResource) -> dg.AssetCheckResult:
        decision = training_decision(lake.lake(), training, governance.policy())
        return dg.AssetCheckResult(
            passed=decision.passed, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"decision": decision.reason, "dataset": decision.dataset,
                      "classifications": ", ".join(f"{k}={v}" for k, v in sorted(decision.classifications.items())),
                      "allowed": ", ".join(decision.allowed) or "none",
                      "refused": ", ".join(decision.refused) or "none"})

    return _check


def training_policy_checks() -> list[dg.AssetChecksDefinition]:
    """One blocking check per training, on the dataset it reads."""
    return [_training_policy_check(training) for training in TRAINED_ON]


def training_assets(config_path: str | None = None) -> list[dg.AssetsDefinition]:
    load_training_config(config_path)  # a broken config fails when the code location loads
    return [pretrained_lm, base_model, chat_model, intent_classifier, lm_evaluation, classifier_evaluation]

