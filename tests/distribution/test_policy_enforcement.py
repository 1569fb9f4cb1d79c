"""The data-use policy enforced in the plant, end to end: on a copy of the session's plant, the support-ticket
source is reclassified as restricted in the sources config and the plant runs again. The datasets built from
it carry the new classification; the blocking ``training_policy`` checks stop the trainings the policy does
not open to restricted data; the one it does (here: the intent classifier) is trained, registered and then
stopped by the blocking ``deployment_policy`` check — restricted data never reaches a public-cloud bundle —
and the compliance report of the failed run says why."""

import json
import shutil
import sqlite3
from pathlib import Path

import dagster as dg
import yaml

from waterworks.assets.distribution.registry import CANDIDATE, CHAMPION, alias_version
from waterworks.assets.tracking import mlflow_client
from waterworks.governance.policy import DEFAULT_POLICY_FILE

CLASSIFIER = "waterworks-intent-classifier"


def _copy_home(source: Path, target: Path) -> None:
    database = source / "mlflow" / "mlflow.db"
    shutil.copytree(source, target, ignore=lambda folder, names: [n for n in names if n.startswith("mlflow.db")]
                    if Path(folder) == database.parent else [])
    with sqlite3.connect(database) as live, sqlite3.connect(target / "mlflow" / "mlflow.db") as copy:
        live.backup(copy)


def _check_results(settings, run_id: str) -> dict[str, bool]:
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    return {f"{e.dagster_event.event_specific_data.asset_key.to_user_string()}:"
            f"{e.dagster_event.event_specific_data.check_name}": e.dagster_event.event_specific_data.passed
            for e in events}


def test_a_restricted_source_is_blocked_from_training_and_from_public_cloud(plant, tmp_path):
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    original, _, _ = plant
    home = tmp_path / "home"
    _copy_home(original.home, home)
    sources = yaml.safe_load(original.sources_file.read_text(encoding="utf-8"))
    sources["sources"]["support_tickets"]["classification"] = "restricted"
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    policy = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    policy["training"]["intent_classifier"].append("restricted")  # may train on it, may not ship it publicly
    # the scenario is the gates': restricted rows pass sanitation with their (redacted) text and attributes
    policy["sanitized"]["restricted"] |= {"text": "keep", "attributes": "keep"}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    settings = Settings(home=home, training_preset="tiny", sources_file=tmp_path / "sources.yaml",
                        policy_file=tmp_path / "policy.yaml")
    client = mlflow_client(str(settings.mlflow_tracking_uri))
    champion_before = alias_version(client, CLASSIFIER, CHAMPION).version

    summary = run_plant(settings, log=lambda line: None)

    assert "support_tickets:tickets/tickets_2024.jsonl" in summary.ingested  # its governance changed
    assert summary.failed == ["plant_job"]  # stopped by blocking checks, not crashed
    checks = _check_results(settings, summary.run_ids[-2])
    assert checks["chat_dataset:training_policy_chat_model"] is False
    assert checks["pretrain_corpus:training_policy_pretrained_lm"] is False
    assert checks["classification_dataset:training_policy_intent_classifier"] is True
    assert checks["champion_intent_classifier:deployment_policy"] is False
    assert "champion_chat_model:deployment_policy" not in checks  # chat was never retrained nor re-promoted

    candidate = alias_version(client, CLASSIFIER, CANDIDATE)
    assert candidate.version != champion_before  # retrained: the dataset's classification is in its version
    assert candidate.tags["gate.policy"] == "refused"
    assert "restricted data in its lineage may not go to public_cloud, edge" in candidate.tags["gate.policy.reason"]
    assert alias_version(client, CLASSIFIER, CHAMPION).version == champion_before
    assert not (settings.bundles_dir / "cloud" / CLASSIFIER / f"v{candidate.version}").exists()

    latest = json.loads((settings.reports_dir / "latest.json").read_text(encoding="utf-8"))
    report = json.loads(Path(latest["json"]).read_text(encoding="utf-8"))  # written after the failed run
    assert report["report"]["run"]["reported_run_id"] == summary.run_ids[-2]
    refused = {d["training"]: d for d in report["policy"]["training"] if not d["passed"]}
    assert set(refused) == {"pretrained_lm", "chat_model"} and refused["chat_model"]["refused"] == ["restricted"]
    assert {s["id"]: s["classification"] for s in report["sources"]}["support_tickets"] == "restricted"
    model = next(m for m in report["models"] if m["registered_name"] == CLASSIFIER and m["version"] == str(candidate.version))
    assert model["deployment"]["classification"] == "restricted"
    assert model["deployment"]["refused_targets"] == ["public_cloud", "edge"] and not model["deployment"]["passed"]
