"""Datasets and training in the full plant run (tiny preset, CPU): what the Dagster run materialized, what the
model folders hold, and that no planted personal value reached datasets, models or their evaluations."""

import json

import dagster as dg
import polars as pl

from tests.planted import planted_values
from waterworks.assets.datasets.store import current_version, read_card, read_dataset
from waterworks.assets.lake import Lake
from waterworks.assets.training.artifacts import current_model
from waterworks.assets.training.train import TrainingRequest, train_pretrained_lm

DATASETS = ("chat", "classification", "corpus")
MODELS = ("pretrained_lm", "chat_model", "intent_classifier")


def _manifest(settings) -> list[dict]:
    return [json.loads(line) for line in (settings.landing_dir / "manifest.jsonl").read_text("utf-8").splitlines()]


def _latest(instance, key: str):
    return instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization


def test_datasets_and_models_materialized_with_checks_passed(plant):
    settings, summary, _ = plant
    assert summary.ok, summary.errors or summary.failed
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        for key in ("chat_dataset", "classification_dataset", "pretrain_corpus", *MODELS, "base_model",
                    "lm_evaluation", "classifier_evaluation"):
            assert _latest(instance, key) is not None, key
        for key, check in [("chat_dataset", "no_residual_pii"), ("classification_dataset", "no_residual_pii"),
                           ("pretrain_corpus", "no_residual_pii"), ("lm_evaluation", "canaries_not_extractable")]:
            record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
                [dg.AssetCheckKey(dg.AssetKey(key), check)])[dg.AssetCheckKey(dg.AssetKey(key), check)]
            assert record.status.value == "SUCCEEDED", (key, check)
        meta = _latest(instance, "classification_dataset").metadata
        assert meta["version"].value == current_version(Lake(settings.lake_uri), "classification")
        assert "| train |" in meta["card"].value
        model_meta = _latest(instance, "chat_model").metadata
        assert model_meta["dataset"].value.startswith("chat@") and model_meta["last_loss"].value > 0
        assert "pretrained_lm" in model_meta["base_model"].value
        evaluation = _latest(instance, "lm_evaluation").metadata
        assert "canary-4-x16" in evaluation["canary_exposure"].value
        assert 0 <= _latest(instance, "classifier_evaluation").metadata["test_accuracy"].value <= 1


def test_training_steps_share_the_gpu_pool_of_one():
    from waterworks.pipelines.definitions import build_definitions
    from waterworks.pipelines.settings import Settings

    defs = build_definitions(Settings())
    graph = defs.resolve_asset_graph()
    pools = {key.to_user_string(): graph.get(key).pools for key in graph.get_all_asset_keys()}
    assert all(pools[name] == {"gpu"} for name in (*MODELS, "lm_evaluation"))
    assert Settings().dagster_yaml()["concurrency"]["pools"]["default_limit"] == 1


def test_model_folders_record_lineage_back_to_landing_files(plant):
    settings, _, _ = plant
    lake = Lake(settings.lake_uri)
    for name, dataset in zip(MODELS, ("corpus", "chat", "classification"), strict=True):
        folder = current_model(settings.models_dir, name)
        lineage = json.loads((folder / "lineage.json").read_text())
        assert lineage["datasets"][0]["version"] == current_version(lake, dataset)
        files = {f["path"] for f in lineage["datasets"][0]["landing_files"]}
        assert "tickets/tickets_2024.jsonl" in files or "docs/faq/covid_faq_0000.md" in files
        assert all(len(f["sha256"]) == 64 for f in lineage["datasets"][0]["landing_files"])
        summary = json.loads((folder / "training.json").read_text())
        assert summary["steps"] > 0 and summary["runtime"]["device"] == "cpu"
        assert (folder / "metrics.jsonl").read_text().count('"loss"') == summary["steps"]
    chat = current_model(settings.models_dir, "chat_model")
    assert (chat / "adapter" / "adapter_model.safetensors").is_file()
    assert (chat / "merged" / "model.safetensors").is_file()
    lineage = json.loads((chat / "lineage.json").read_text())
    assert lineage["base_model"]["origin"] == "pretrained_lm" and len(lineage["base_model"]["sha256"]) == 64


def test_same_inputs_reuse_the_trained_model(plant):
    settings, _, _ = plant
    before = current_model(settings.models_dir, "pretrained_lm")
    again = train_pretrained_lm(TrainingRequest(Lake(settings.lake_uri), settings.models_dir,
                                                settings.configs.training.preset("tiny"),
                                                log=lambda _: None))
    assert again.reused and again.path == before


def test_no_planted_value_in_datasets_cards_or_model_folders(plant):
    settings, _, _ = plant
    lake = Lake(settings.lake_uri)
    planted = _manifest(settings)
    assert len({e["value"] for e in planted if "canary" in e["location"]}) == 6
    values = planted_values(settings.landing_dir)
    haystack = []
    for name in DATASETS:
        splits, card = read_dataset(lake, name)
        haystack.append(json.dumps(card, ensure_ascii=False))
        for frame in splits.values():
            haystack += [str(v) for column in frame.columns if frame[column].dtype == pl.String for v in frame[column]]
    for path in settings.models_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".jinja", ".md", ".txt"):
            haystack.append(path.read_text(encoding="utf-8", errors="ignore"))
    text = "\n".join(haystack)
    assert "<PHONE_NUMBER>" in text  # redacted values are there as placeholders
    assert sorted(v for v in values if v in text)[:3] == []


def test_dataset_cards_count_the_redacted_pii_and_splits_are_disjoint(plant):
    settings, _, _ = plant
    lake = Lake(settings.lake_uri)
    card = read_card(lake, "classification")
    assert card["pii_redacted_by_type"].get("PHONE_NUMBER", 0) >= 42  # the canaries, at least
    splits, _ = read_dataset(lake, "chat")
    firsts = {s: {json.loads(m)[1]["content"] for m in f["messages"]} for s, f in splits.items()}
    assert not (firsts["train"] & firsts["test"]) and not (firsts["train"] & firsts["validation"])
