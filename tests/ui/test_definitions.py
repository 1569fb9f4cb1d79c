"""The Dagster UI as the plant: every asset in one of the stage groups, with a description, owners and kinds;
the governance checks blocking; every schedule and sensor on by default (so `make ui` runs them)."""

import dagster as dg

from waterworks.pipelines.definitions import STAGES, build_definitions
from waterworks.pipelines.settings import Settings


def test_every_asset_is_described_owned_and_grouped_by_stage(tmp_path):
    defs = build_definitions(Settings(home=tmp_path))
    graph = defs.resolve_asset_graph()
    groups = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.group_name in STAGES, name
        assert node.description and len(node.description) > 40, name
        assert node.owners and all(o.startswith("team:") or "@" in o for o in node.owners), name
        assert node.kinds, name
        groups.setdefault(node.group_name, set()).add(name)
    assert set(groups) == set(STAGES)
    assert groups["governance"] == {"compliance_report"}
    assert node_metadata(graph, "raw_hr_employees")["classification"] == "restricted"


def node_metadata(graph, name: str) -> dict:
    return dict(graph.get(dg.AssetKey(name)).metadata)


def test_governance_checks_are_blocking(tmp_path):
    graph = build_definitions(Settings(home=tmp_path)).resolve_asset_graph()
    blocking = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys
                if graph.get_check_spec(k).blocking}
    assert {("chat_dataset", "training_policy_chat_model"), ("pretrain_corpus", "training_policy_pretrained_lm"),
            ("classification_dataset", "training_policy_intent_classifier"),
            ("champion_chat_model", "deployment_policy"), ("champion_intent_classifier", "deployment_policy"),
            ("chat_dataset", "no_residual_pii")} <= blocking
    assert ("champion_intent_classifier", "promotion_gates") not in blocking  # a refusal keeps the old champion


def test_schedules_and_sensors_run_by_default(tmp_path):
    defs = build_definitions(Settings(home=tmp_path))
    assert {s.name for s in defs.sensors} == {"landing_sensor", "report_after_plant_run",
                                              "report_after_failed_plant_run"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in defs.sensors)
    assert "daily_refresh_plant" in {s.name for s in defs.schedules}
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in defs.schedules)
