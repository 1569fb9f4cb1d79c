"""Distribution in the full plant run (tiny preset, local SQLite MLflow store): runs with dataset lineage,
registered versions and aliases, the promotion gates on a real registry, bundles and their manifests, edge
parity, and an HTTP prediction from the served champion."""

import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from tests.planted import planted_values
from waterworks.assets.datasets.store import current_version
from waterworks.assets.distribution.promotion import DATASET_TAG, decide_promotion, metric_tag
from waterworks.assets.distribution.registry import CANDIDATE, CHAMPION, alias_version, register
from waterworks.assets.lake import Lake
from waterworks.assets.tracking import find_run, fluent_tracking, mlflow_client
from waterworks.assets.training.artifacts import ModelArtifact, current_model, load_artifact, read_evaluation
from waterworks.governance.policy import load_policy

CLASSIFIER, CHAT = "waterworks-intent-classifier", "waterworks-chat"
TRAINED = {"pretrained_lm": "corpus", "chat_model": "chat", "intent_classifier": "classification"}


def _client(settings):
    return mlflow_client(str(settings.mlflow_tracking_uri))


def _artifact(settings, name: str) -> ModelArtifact:
    return load_artifact(current_model(settings.models_dir, name))


def _materialization(settings, key: str):
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        return instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization


def test_every_training_asset_logs_one_run_with_dataset_lineage(plant):
    settings, summary, _ = plant
    assert summary.ok, summary.errors or summary.failed
    client = _client(settings)
    experiment = client.get_experiment_by_name("waterworks")
    lake = Lake(settings.lake_uri)
    for model, dataset in TRAINED.items():
        folder = current_model(settings.models_dir, model)
        run = find_run(client, experiment.experiment_id, model, folder.name)
        assert run is not None, model
        inputs = [(d.dataset.name, d.dataset.digest) for d in run.inputs.dataset_inputs]
        assert inputs == [(dataset, current_version(lake, dataset))]
        assert run.data.tags["dagster.run_id"] in summary.run_ids
        assert run.data.tags["dagster.asset_key"] == model
        assert run.data.params["system.device"] == "cpu" and "system.torch" in run.data.params
        steps = json.loads((folder / "training.json").read_text())["steps"]
        assert len(client.get_metric_history(run.info.run_id, "loss")) == steps
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"lineage.json", "training.json", "sanitation_audit.json", "datasets"} <= artifacts
        cards = {a.path for a in client.list_artifacts(run.info.run_id, "datasets")}
        assert f"datasets/{dataset}_card.json" in cards and f"datasets/{dataset}_card.md" in cards
        assert run.info.run_id in _materialization(settings, model).metadata["mlflow_run"].value
    audit = client.download_artifacts(find_run(client, experiment.experiment_id, "intent_classifier", current_model(
        settings.models_dir, "intent_classifier").name).info.run_id, "sanitation_audit.json", str(settings.home))
    assert json.loads(Path(audit).read_text())["total_redacted"] > 0
    chat_run = find_run(client, experiment.experiment_id, "chat_model", current_model(settings.models_dir,
                                                                                       "chat_model").name)
    assert "test_chat_test_perplexity" not in chat_run.data.metrics  # test metrics keep their own names
    assert chat_run.data.metrics["chat_test_perplexity"] > 1


def test_models_are_registered_with_candidate_and_champion_aliases(plant):
    settings, _, _ = plant
    client = _client(settings)
    for model, name in (("intent_classifier", CLASSIFIER), ("chat_model", CHAT)):
        candidate = alias_version(client, name, CANDIDATE)
        assert candidate.tags["waterworks.model_key"] == current_model(settings.models_dir, model).name
        assert candidate.tags[DATASET_TAG] == read_evaluation(current_model(settings.models_dir, model))[
            "dataset_version"]
        champion = alias_version(client, name, CHAMPION)
        assert champion is not None and champion.version == candidate.version, name
        assert {champion.tags[f"gate.{g}"] for g in ("quality", "privacy", "policy")} == {"passed"}
        meta = _materialization(settings, f"champion_{model}").metadata
        assert meta["promoted"].value is True and "| quality | passed |" in meta["gates"].value
    with fluent_tracking(str(settings.mlflow_tracking_uri)) as mlflow:
        classifier_info = mlflow.models.get_model_info(f"models:/{CLASSIFIER}@{CHAMPION}")
        chat_info = mlflow.models.get_model_info(f"models:/{CHAT}@{CHAMPION}")
    assert classifier_info.signature.inputs.input_names() == ["text"]
    assert set(classifier_info.flavors) >= {"python_function"} and "transformers" in chat_info.flavors
    assert chat_info.signature is not None
    assert "confidential data may go to private_cloud" in alias_version(client, CHAT, CHAMPION).tags[
        "gate.policy.reason"]  # the chat model's base was pretrained on mail classified confidential
    # registering the same trained folder again changes nothing
    artifact = _artifact(settings, "intent_classifier")
    again, created = register(client, str(settings.mlflow_tracking_uri), CLASSIFIER, artifact,
                              alias_version(client, CLASSIFIER, CANDIDATE).run_id,
                              lambda *_: pytest.fail("must not log the model again"), {})
    assert not created and again.version == alias_version(client, CLASSIFIER, CANDIDATE).version


def test_chat_champion_answers_openai_style_messages(plant):
    settings, _, _ = plant
    with fluent_tracking(str(settings.mlflow_tracking_uri)) as mlflow:
        chat = mlflow.pyfunc.load_model(f"models:/{CHAT}@{CHAMPION}")
    answer = chat.predict({"messages": [{"role": "user", "content": "How do I reset my password?"}],
                           "max_tokens": 8})
    answer = answer[0] if isinstance(answer, list) else answer
    assert answer["object"] == "chat.completion" and answer["model"] == "chat_model"
    assert answer["choices"][0]["message"]["role"] == "assistant"
    assert 0 < answer["usage"]["completion_tokens"] <= 8


@pytest.fixture
def registry_copy(plant, tmp_path):
    """A copy of the plant's MLflow database (artifacts stay where they are) with a second classifier version,
    registered from the same files, as the candidate."""
    settings, _, _ = plant
    database = Path(str(settings.mlflow_tracking_uri).removeprefix("sqlite:///"))
    with sqlite3.connect(database) as source, sqlite3.connect(tmp_path / "mlflow.db") as copy:
        source.backup(copy)  # consistent, WAL included
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow_client(uri)
    champion = alias_version(client, CLASSIFIER, CHAMPION)
    with fluent_tracking(uri):  # MLflow resolves a models:/m-… source through the global tracking URI
        second = client.create_model_version(CLASSIFIER, champion.source, champion.run_id, tags={
            "waterworks.model_key": "second"}, model_id=getattr(champion, "model_id", None))
    client.set_registered_model_alias(CLASSIFIER, CANDIDATE, second.version)
    return settings, client, uri, champion, second


def _decide(settings, client, uri, evaluation: dict, lineage: dict | None = None, rescore=None):
    plan = settings.configs.distribution.plan("intent_classifier")
    lineage = lineage or _artifact(settings, "intent_classifier").lineage
    return decide_promotion(client, uri, Lake(settings.lake_uri), plan, load_policy(), lineage, evaluation,
                            rescore or (lambda folder: pytest.fail("the champion's score was recorded")))


def test_promotion_is_refused_by_each_gate_and_granted_when_all_pass(registry_copy):
    settings, client, uri, champion, second = registry_copy
    recorded = float(champion.tags[metric_tag("test_accuracy")])
    version = champion.tags[DATASET_TAG]
    better = {"dataset_version": version, "metrics": {"test_accuracy": min(1.0, recorded + 0.01) + 1e-9}}

    worse = _decide(settings, client, uri, {"dataset_version": version, "metrics": {"test_accuracy": recorded}})
    assert not worse.promoted and "does not beat the champion" in worse.gates[0].reason

    leaked = _decide(settings, client, uri, {**better, "canaries": {"passed": False, "max_exposure_bits": 9.9,
                                                                    "threshold_bits": 9.0}})
    assert not leaked.promoted and not leaked.gates[1].passed and leaked.gates[0].passed

    restricted = _artifact(settings, "intent_classifier").lineage
    restricted["datasets"][0]["classifications"] = {"restricted": 1, "internal": 10}
    refused = _decide(settings, client, uri, better, lineage=restricted)
    assert not refused.promoted and "restricted data in its lineage may not go to public_cloud" in \
        refused.gates[2].reason
    assert alias_version(client, CLASSIFIER, CHAMPION).version == champion.version
    assert client.get_model_version(CLASSIFIER, second.version).tags["gate.policy"] == "refused"

    granted = _decide(settings, client, uri, better)
    assert granted.promoted and all(g.passed for g in granted.gates)
    assert alias_version(client, CLASSIFIER, CHAMPION).version == second.version
    assert granted.previous_champion == champion.version


def test_a_champion_scored_on_another_test_split_is_rescored_from_the_registry(registry_copy):
    settings, client, uri, champion, _ = registry_copy
    client.set_model_version_tag(CLASSIFIER, champion.version, DATASET_TAG, "an-older-version")
    seen = []

    def rescore(folder: Path) -> float:
        seen.append(sorted(p.name for p in folder.iterdir()))
        return 0.25

    evaluation = {"dataset_version": current_version(Lake(settings.lake_uri), "classification"),
                  "metrics": {"test_accuracy": 0.6}}
    result = _decide(settings, client, uri, evaluation, rescore=rescore)
    assert seen == [["classifier.json", "encoder", "head.safetensors"]]  # downloaded from the registry
    assert result.gates[0].evidence["champion"] == 0.25 and result.promoted
    assert "re-scored" in result.gates[0].evidence["champion_score"]


def _bundle(settings, target: str, name: str) -> Path:
    folders = sorted((settings.bundles_dir / target / name).glob("v*"))
    assert folders, (target, name)
    return folders[-1]


def test_bundles_carry_manifests_with_hashes_lineage_and_policy(plant):
    settings, _, _ = plant
    expected = {"server": {CHAT, CLASSIFIER}, "edge": {CLASSIFIER}, "cloud": {CLASSIFIER}}
    for target, names in expected.items():
        assert {p.name for p in (settings.bundles_dir / target).iterdir()} == names, target
        for name in names:
            folder = _bundle(settings, target, name)
            manifest = json.loads((folder / "manifest.json").read_text())
            on_disk = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
                             and p.name not in ("manifest.json", "SHA256SUMS") and "__pycache__" not in p.parts)
            assert sorted(f["path"] for f in manifest["files"]) == on_disk
            for entry in manifest["files"]:
                assert hashlib.sha256((folder / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
            assert manifest["registry_uri"] == f"models:/{name}/{manifest['version']}"
            assert manifest["datasets"][0]["digest"] and manifest["code_version"]
            assert manifest["target"] in manifest["allowed_targets"]
    chat = json.loads((_bundle(settings, "server", CHAT) / "manifest.json").read_text())
    assert chat["classification"] == "confidential" and "public_cloud" not in chat["allowed_targets"]
    assert chat["base_model"]["origin"] == "pretrained_lm" and len(chat["base_model"]["sha256"]) == 64
    files = {f["path"] for f in chat["files"]}
    assert {"model/model.safetensors", "model/tokenizer.json", "model/chat_template.jinja", "vllm.yaml",
            "serve.sh"} <= files
    assert "MLmodel" in {Path(p).name for p in (f["path"] for f in json.loads(
        (_bundle(settings, "server", CLASSIFIER) / "manifest.json").read_text())["files"])}
    meta = _materialization(settings, "edge_bundle").metadata
    assert "not meant for edge" in meta["left_out"].value


def test_edge_bundle_matches_pytorch_within_tolerance(plant):
    from transformers import AutoTokenizer

    from waterworks.assets.datasets.store import read_split
    from waterworks.models.encoder_classifier import load_classifier
    from waterworks.models.export import OnnxClassifier
    from waterworks.models.serving import classify

    settings, _, _ = plant
    folder = _bundle(settings, "edge", CLASSIFIER)
    parity = json.loads((folder / "parity.json").read_text())
    tolerance = settings.configs.distribution.bundles.edge
    assert parity["float32"]["max_logit_delta"] <= tolerance.fp32_max_logit_delta
    assert parity["int8"]["decisive_agreement"] >= tolerance.min_label_agreement
    assert parity["int8"]["decisive_examples"] >= parity["int8"]["examples"] // 2  # the label check bit
    assert parity["int8"]["max_probability_delta"] <= tolerance.max_probability_delta
    assert (folder / "model.int8.onnx").stat().st_size < parity["float32_bytes"] / 2.5  # int8 weights
    # independently: the bundle alone (ONNX + its tokenizer + labels) against the trained PyTorch model
    texts = read_split(Lake(settings.lake_uri), "classification", "test")["text"].to_list()[:20]
    labels = json.loads((folder / "classifier.json").read_text())["labels"]
    edge = OnnxClassifier(folder / "model.int8.onnx", AutoTokenizer.from_pretrained(str(folder)), 64)
    edge_labels = [labels[i] for i in edge.logits(texts).argmax(-1)]
    model, tokenizer, meta = load_classifier(current_model(settings.models_dir, "intent_classifier"))
    torch_labels, _ = classify(model, tokenizer, meta, texts)
    assert sum(a == b for a, b in zip(edge_labels, torch_labels, strict=True)) >= 19


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_served_champion_answers_an_http_prediction(plant):
    settings, _, _ = plant
    port = _free_port()
    env = {**os.environ, "WATERWORKS_HOME": str(settings.home), "WATERWORKS_TRAINING_PRESET": "tiny"}
    server = subprocess.Popen([sys.executable, "-m", "waterworks.pipelines.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read().decode(errors="replace")[-2000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                time.sleep(1)
        body = json.dumps({"dataframe_records": [{"text": "My card has not arrived yet"},
                                                 {"text": "How do I change my PIN?"}]}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    labels = json.loads((current_model(settings.models_dir, "intent_classifier") / "classifier.json").read_text())[
        "labels"]
    assert len(answer["predictions"]) == 2
    assert all(p["label"] in labels and 0 < p["score"] <= 1 for p in answer["predictions"])


def test_serve_without_a_champion_says_so(tmp_path):
    env = {**os.environ, "WATERWORKS_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "waterworks.pipelines.cli", "serve"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "has no version with alias 'champion'" in done.stderr


def test_no_planted_value_in_mlflow_or_bundles(plant):
    settings, _, _ = plant
    values = planted_values(settings.landing_dir)
    haystack = []
    roots = [settings.bundles_dir, settings.home / "mlflow"]
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and path.suffix not in (".safetensors", ".onnx", ".pkl", ".pyc"):
                haystack.append(path.read_bytes().decode("utf-8", errors="ignore"))
    text = "\n".join(haystack)
    assert "waterworks-intent-classifier" in text  # the database was read
    assert sorted(v for v in values if v in text)[:3] == []


def test_lineage_of_a_champion_reaches_the_landing_files(plant):
    from waterworks.assets.distribution.lineage import model_lineage

    settings, _, _ = plant
    lineage = model_lineage(_client(settings), Lake(settings.lake_uri), f"{CHAT}@{CHAMPION}")
    assert lineage["model"]["version"] == str(alias_version(_client(settings), CHAT, CHAMPION).version)
    chat = lineage["datasets"][0]
    assert chat["name"] == "chat" and chat["version"] == current_version(Lake(settings.lake_uri), "chat")
    assert chat["built_from"] == ["sanitized_documents", "purified_documents"]
    assert "raw_support_tickets" in chat["raw_assets"]
    for entry in chat["landing_files"]:  # the exact bytes that were delivered
        assert hashlib.sha256((settings.landing_dir / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    base = lineage["base_model"]
    assert base["origin"] == "pretrained_lm" and base["datasets"][0]["name"] == "corpus"
    assert "confidential" in base["datasets"][0]["classifications"]  # the mail archive, through the base model
    env = {**os.environ, "WATERWORKS_HOME": str(settings.home)}
    done = subprocess.run([sys.executable, "-m", "waterworks.pipelines.cli", "lineage", "--model", f"{CLASSIFIER}@{CHAMPION}"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "dataset classification@" in done.stdout and "landing tickets/tickets_2024.jsonl  sha256 " in done.stdout
    bad = subprocess.run([sys.executable, "-m", "waterworks.pipelines.cli", "lineage", "--model", CHAT], env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "NAME@ALIAS" in bad.stderr


def test_a_tampered_bundle_is_refused_before_it_serves(plant, tmp_path):
    import shutil

    from waterworks.assets.distribution.bundles import verify_bundle

    settings, _, _ = plant
    copy = tmp_path / "bundle"
    shutil.copytree(_bundle(settings, "server", CLASSIFIER), copy)
    assert verify_bundle(copy) == []
    (copy / "mlflow_model" / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    assert verify_bundle(copy) == ["changed: mlflow_model/MLmodel"]
    result = subprocess.run(["sh", str(copy / "serve.sh")], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "refusing to serve" in result.stderr


def test_promotions_are_recorded_and_a_hand_moved_alias_is_not_served(plant, tmp_path):
    from waterworks.assets.distribution.registry import (
        FILES_TAG,
        UnverifiedModel,
        promotion_entry,
        promotion_ledger,
        verified_download,
    )

    settings, summary, _ = plant
    client, uri = _client(settings), str(settings.mlflow_tracking_uri)
    champion = alias_version(client, CLASSIFIER, CHAMPION)
    ledger = promotion_ledger(settings.models_dir)
    entry = promotion_entry(ledger, CLASSIFIER, champion.version)
    assert entry and entry["files_sha256"] == champion.tags[FILES_TAG] and "Dagster run" in entry["by"]
    assert champion.tags["waterworks.promoted_by"] == entry["by"] and entry["gates"]["privacy"] is True
    assert verified_download(client, uri, CLASSIFIER, CHAMPION, ledger, tmp_path / "ok").is_dir()
    # someone registers a version by hand and moves the alias in the registry: nothing serves it
    with fluent_tracking(uri):  # the registry looks the logged model up in the global tracking store
        rogue = client.create_model_version(CLASSIFIER, champion.source, champion.run_id)
    client.set_registered_model_alias(CLASSIFIER, CHAMPION, rogue.version)
    try:
        with pytest.raises(UnverifiedModel, match="no record of promoting"):
            verified_download(client, uri, CLASSIFIER, CHAMPION, ledger, tmp_path / "rogue")
        env = {**os.environ, "WATERWORKS_HOME": str(settings.home), "WATERWORKS_TRAINING_PRESET": "tiny"}
        result = subprocess.run([sys.executable, "-m", "waterworks.pipelines.cli", "serve", "--port", str(_free_port())],
                                capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 2 and "refusing to serve" in result.stderr
    finally:
        client.set_registered_model_alias(CLASSIFIER, CHAMPION, champion.version)
        client.delete_model_version(CLASSIFIER, rogue.version)
    # the files changed since promotion: refused too
    forged = tmp_path / "promotions.jsonl"
    forged.write_text(json.dumps({**entry, "files_sha256": "0" * 64}) + "\n", encoding="utf-8")
    with pytest.raises(UnverifiedModel, match="differ"):
        verified_download(client, uri, CLASSIFIER, CHAMPION, forged, tmp_path / "forged")
