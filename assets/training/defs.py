"""Dagster definitions of the training stage beyond the products' own assets (assets/factory.py builds each
product's training and evaluation assets from assets/products.py): ``base_model`` (the causal LM chat
fine-tuning starts from) and ``lm_evaluation`` (both language models evaluated together, with the canaries).
Training steps share the concurrency pool ``gpu`` (limit 1). Models pass between assets as folder paths
recorded in ``models/<name>/current.json``."""

from pathlib import Path

import dagster as dg

from ..factory import POOL, TRAINING, fmt, record_evaluation, stage_args
from ..metadata import md_table
from ..resources import LakeResource, MlflowResource, TrainingResource
from .artifacts import current_model, remembered_result
from .evaluate import evaluate_language_models, lm_evaluation_inputs, lm_model_evaluation, load_canaries
from .train import CHAT_MODEL, MERGED, PRETRAINED_LM, resolve_base_model


@dg.asset(deps=[PRETRAINED_LM], kinds={"transformers"}, **stage_args(TRAINING),
          description="The causal LM that chat fine-tuning starts from: a configured local Hugging Face folder "
          "(WATERWORKS_BASE_MODEL_PATH, e.g. an internal mirror of a Qwen checkpoint) or the model pretrained here.")
def base_model(context: dg.AssetExecutionContext, training: TrainingResource) -> dg.MaterializeResult:
    path, sha, origin = resolve_base_model(Path(training.models_dir), training.base_model_path)
    context.log.info(f"base model: {origin} at {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "sha256": sha, "origin": origin})


def _models_dir(training: TrainingResource) -> Path:
    return Path(training.models_dir)


@dg.asset(deps=[PRETRAINED_LM, CHAT_MODEL, "pretrain_corpus", "chat_dataset"], pool=POOL, kinds={"pytorch"},
          **stage_args(TRAINING), check_specs=[dg.AssetCheckSpec(
              "canaries_not_extractable", asset="lm_evaluation", blocking=True,
              description="at least one canary was evaluated, and no canary secret (the datasets stage's own, "
              "planted in every language-model training set, and any in the raw estate's ground truth) has an "
              "exposure above the threshold in either language model (The Secret Sharer)")],
          description="Perplexity of both language models on held-out data, sample answers (residual-scanned), and "
                      "the exposure of every canary secret: those the datasets stage planted, and any planted in "
                      "the raw estate.")
def lm_evaluation(context: dg.AssetExecutionContext, lake: LakeResource, training: TrainingResource,
                  mlflow: MlflowResource) -> dg.MaterializeResult:
    plan = training.recipe_preset().evaluation
    canaries = load_canaries(lake.lake(), Path(training.landing_dir))
    folders = {PRETRAINED_LM: current_model(_models_dir(training), PRETRAINED_LM),
               CHAT_MODEL: current_model(_models_dir(training), CHAT_MODEL)}
    chat_base, _, _ = resolve_base_model(_models_dir(training), training.base_model_path)
    inputs = lm_evaluation_inputs(lake.lake(), folders[PRETRAINED_LM], folders[CHAT_MODEL], canaries, plan,
                                  training.device, chat_base)
    result, reused = remembered_result(_models_dir(training), "lm_evaluation", inputs, lambda: (
        evaluate_language_models(lake.lake(), folders[PRETRAINED_LM], folders[CHAT_MODEL] / MERGED, canaries, plan,
                                 training.device, chat_base)))
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
                                                    [(n, fmt(a), fmt(b)) for n, a, b in rows])),
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


def _cell(text: str) -> str:  # long answers cut for the table
    return text[:200]


def training_assets() -> list[dg.AssetsDefinition]:
    return [base_model, lm_evaluation]
