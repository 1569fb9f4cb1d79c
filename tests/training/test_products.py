"""The product registry: every product's assets come from its one declaration (assets/products.py), and the
PII detector — a product added as one entry plus its recipe — is trained, evaluated on dev halves its
thresholds never saw, registered in MLflow as a pyfunc model that finds names, and put through the promotion
gates by its own job, through Dagster."""

import json

import dagster as dg
import pandas as pd
import pytest
import yaml

from waterworks.assets.products import PRODUCTS, product
from waterworks.assets.training.artifacts import current_model, read_evaluation
from waterworks.governance.policy import DEFAULT_POLICY_FILE

DETECTOR = "waterworks-pii-detector"


def test_every_product_gets_its_assets_and_only_the_plant_job_trains_the_others():
    from waterworks.pipelines.definitions import build_definitions
    from waterworks.pipelines.jobs import PLANT_JOB
    from waterworks.pipelines.settings import Settings

    defs = build_definitions(Settings())
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    for p in PRODUCTS:
        assert set(p.assets) <= keys, p.name
        assert (f"registered_{p.name}" in keys) == p.registered
    checks = {c.to_user_string() for c in defs.resolve_asset_graph().asset_check_keys}
    assert {f"{d}:training_policy_{p}" for d, p in [("classification_dataset", "intent_classifier"),
                                                     ("chat_dataset", "chat_model"),
                                                     ("pretrain_corpus", "pretrained_lm")]} <= checks
    plant = {k.to_user_string() for k in defs.resolve_job_def(PLANT_JOB).asset_layer.selected_asset_keys}
    detector = {k.to_user_string() for k in defs.resolve_job_def("pii_detector_job").asset_layer.selected_asset_keys}
    assert detector == set(product("pii_detector").assets)
    assert not plant & detector and "intent_classifier" in plant and "server_bundle" in plant
    assert defs.resolve_schedule_def("pii_detector_schedule").cron_schedule == "0 4 * * 0"
    with pytest.raises(KeyError, match="no product 'nope'"):
        product("nope")


@pytest.fixture(scope="module")
def detector_home(tmp_path_factory):
    """The detector's own job, run once through Dagster with the tiny preset in a fresh home."""
    from waterworks.pipelines.definitions import build_definitions
    from waterworks.pipelines.settings import Settings, prepare_dagster_home

    settings = Settings(home=tmp_path_factory.mktemp("detector"), training_preset="tiny")
    prepare_dagster_home(settings)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        result = build_definitions(settings).resolve_job_def("pii_detector_job").execute_in_process(
            instance=instance, raise_on_error=False)
        materialized = {e.asset_key.to_user_string(): e.step_materialization_data.materialization.metadata
                        for e in result.get_asset_materialization_events()}
        checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    return settings, result, materialized, checks


def test_the_detector_is_trained_evaluated_registered_and_gated_by_its_own_job(detector_home):
    from waterworks.assets.distribution.registry import CANDIDATE, CHAMPION, alias_version, download_model
    from waterworks.assets.tracking import mlflow_client

    settings, result, materialized, checks = detector_home
    assert result.success
    assert set(materialized) == {"pii_detector", "pii_detector_evaluation", "registered_pii_detector",
                                 "champion_pii_detector"}
    folder = current_model(settings.models_dir, "pii_detector")
    lineage = json.loads((folder / "lineage.json").read_text(encoding="utf-8"))
    data = lineage["datasets"][0]
    assert data["external"] and data["name"] == "pii_labelled_corpora" and set(data["classifications"]) == {"public"}
    assert data["rows"]["train"] == materialized["pii_detector"]["examples"].value > 0
    evaluation = read_evaluation(folder)
    assert set(evaluation["details"]["check_splits"]) == {"conll_valid", "cluener_dev", "resume_dev",
                                                          "synthetic_en_dev", "synthetic_zh_dev"}
    assert 0 <= evaluation["metrics"]["dev_person_f1"] <= 1
    assert "by dev split (check half)" in materialized["pii_detector_evaluation"]
    from waterworks.governance.pii.detector_corpus import dev_examples, split_dev

    pick, check = split_dev(dev_examples())  # thresholds on one half, the gate on the other: disjoint halves
    for name in pick:
        assert not {e.text for e in pick[name]} & {e.text for e in check[name]}
        assert evaluation["details"]["check_splits"][name]["gold"] == sum(
            1 for e in check[name] for *_, label in e.spans if label == "PER")

    client = mlflow_client(str(settings.mlflow_tracking_uri))
    candidate = alias_version(client, DETECTOR, CANDIDATE)
    assert candidate.tags["test.dev_person_f1"] == str(evaluation["metrics"]["dev_person_f1"])
    # the tiny preset's detector is far below the floor: refused on quality alone, the other gates pass
    assert candidate.tags["gate.quality"] == "refused" and "floor" in candidate.tags["gate.quality.reason"]
    assert candidate.tags["gate.privacy"] == "passed" and candidate.tags["gate.policy"] == "passed"
    assert alias_version(client, DETECTOR, CHAMPION) is None
    assert checks["promotion_gates"].passed is False and checks["deployment_policy"].passed is True

    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(str(download_model(DETECTOR, candidate.version, str(
        settings.mlflow_tracking_uri), settings.home / "downloaded")))
    out = model.predict(pd.DataFrame({"text": ["Please ask Maria Schmidt to call back.", "No names here."],
                                      "language": ["en", "en"]}))
    spans = [json.loads(s) for s in out["spans"]]
    assert len(spans) == 2 and all(isinstance(s, list) for s in spans)
    assert all(0 <= start < end <= 38 and label in ("PER", "ADDR", "ORG", "LOC") for start, end, label, _ in spans[0])


def test_a_policy_that_does_not_open_public_data_to_the_detector_stops_its_training(tmp_path):
    from waterworks.pipelines.definitions import build_definitions
    from waterworks.pipelines.settings import Settings, prepare_dagster_home

    policy = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    del policy["training"]["pii_detector"]
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    settings = Settings(home=tmp_path / "home", training_preset="tiny", policy_file=tmp_path / "policy.yaml")
    prepare_dagster_home(settings)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        result = build_definitions(settings).resolve_job_def("pii_detector_job").execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=[dg.AssetKey("pii_detector")])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error.cause
    assert failure.cls_name == "TrainingRefused" and "public" in failure.message
    assert not (settings.models_dir / "pii_detector" / "current.json").exists()


def test_sanitation_can_follow_the_registry_champion_detector(tmp_path):
    """``pii_detector: champion``: the shipped detector while nothing is promoted; once the detector job promotes
    one (here the quality floor is lifted so the tiny preset's detector passes), the registry's verified champion,
    its version named — and a champion whose files differ from the promotion ledger's record is refused."""
    from waterworks.assets.distribution.registry import UnverifiedModel
    from waterworks.assets.resources import PiiEngineResource
    from waterworks.assets.stage_configs import default_file
    from waterworks.governance.pii.engine import build_analyzer
    from waterworks.pipelines.definitions import build_definitions
    from waterworks.pipelines.settings import Settings, prepare_dagster_home

    distribution = yaml.safe_load(default_file("distribution").read_text(encoding="utf-8"))
    distribution["quality"]["pii_detector"]["floor"] = None
    (tmp_path / "distribution.yaml").write_text(yaml.safe_dump(distribution), encoding="utf-8")
    settings = Settings(home=tmp_path / "home", training_preset="tiny", pii_detector="champion",
                        distribution_file=tmp_path / "distribution.yaml")
    pii = PiiEngineResource.from_settings(settings)
    before, which = pii.resolved()
    assert before.detector is None and which.startswith("shipped") and "no champion" in which

    prepare_dagster_home(settings)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert build_definitions(settings).resolve_job_def("pii_detector_job").execute_in_process(
            instance=instance, raise_on_error=False).success
    config, which = pii.resolved()
    assert which == f"{DETECTOR} v1 (registry champion)"
    trained = current_model(settings.models_dir, "pii_detector")
    for name in ("tagger.json", "model.safetensors"):
        assert (config.detector_folder / name).read_bytes() == (trained / name).read_bytes()
    analyzer = build_analyzer(config)  # the engine loads the champion's weights
    assert analyzer.analyze("No names here.", language="en") is not None

    (config.detector_folder / "model.safetensors").write_bytes(b"tampered")  # a cached copy is re-verified
    again, _ = pii.resolved()
    assert (again.detector_folder / "model.safetensors").read_bytes() == (trained / "model.safetensors").read_bytes()
    ledger = settings.models_dir / "promotions.jsonl"
    entries = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
    ledger.write_text("".join(json.dumps({**e, "files_sha256": "0" * 64}) + "\n" for e in entries), encoding="utf-8")
    with pytest.raises(UnverifiedModel):
        pii.resolved()
