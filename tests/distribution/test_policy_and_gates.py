"""The data-use policy (training and deployment) and the three promotion gates as plain functions."""

import json

import pytest

from waterworks.assets.distribution.config import QualityGate, load_distribution_config
from waterworks.assets.distribution.gates import policy_gate, privacy_gate, quality_gate
from waterworks.governance.policy import (
    PolicyError,
    decide_targets,
    decide_training,
    lineage_classifications,
    load_policy,
)


def _lineage(*classifications: str, base: dict | None = None) -> dict:
    return {"datasets": [{"name": "chat", "classifications": {c: 3 for c in classifications}}], "base_model": base}


def test_restricted_data_never_goes_to_public_cloud():
    policy = load_policy()
    decision = decide_targets(_lineage("public", "restricted"), ["public_cloud", "private_cloud"], policy)
    assert decision.classification == "restricted"
    assert decision.refused == ("public_cloud",) and not decision.passed
    assert "private_cloud" in decision.allowed and "edge" not in decision.allowed
    assert decide_targets(_lineage("internal"), ["public_cloud", "edge"], policy).passed


def test_classification_follows_the_base_model_trained_here(tmp_path):
    policy = load_policy()
    base = tmp_path / "pretrained"
    base.mkdir()
    (base / "lineage.json").write_text(json.dumps(_lineage("confidential")))
    lineage = _lineage("public", base={"path": str(base), "origin": "pretrained_lm", "sha256": "0" * 64})
    assert lineage_classifications(lineage, policy) == {"public": 3, "confidential": 3}
    assert decide_targets(lineage, ["public_cloud"], policy).refused == ("public_cloud",)
    external = _lineage("public", base={"path": str(tmp_path / "elsewhere"), "origin": "configured"})
    assert decide_targets(external, ["public_cloud"], policy).classification == policy.external_base_model


def test_restricted_data_trains_nothing_by_default():
    policy = load_policy()
    refused = decide_training("intent_classifier", "classification@abc", {"internal": 500, "restricted": 3}, policy)
    assert not refused.passed and refused.refused == ("restricted",)
    assert refused.reason == ("restricted data (3 documents) may not feed intent_classifier; the policy allows "
                              "public, internal, confidential")
    assert decide_training("chat_model", "chat@abc", {"public": 3, "confidential": 1}, policy).passed
    assert decide_training("chat_model", "chat@abc", {"restricted": 0}, policy).passed  # counts, not keys
    unknown = decide_training("new_model", "chat@abc", {"public": 1}, policy)  # the policy is an allow-list
    assert not unknown.passed and "allows nothing" in unknown.reason


def test_policy_errors_name_the_file_and_the_problem(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text("classifications: [public]\ntargets: {edge: [secret]}\n")
    with pytest.raises(PolicyError, match=r"policy.yaml.*unknown classifications \['secret'\]"):
        load_policy(bad)
    bad.write_text("classifications: [public]\ntraining: {chat_model: [public, secret]}\ntargets: {}\n")
    with pytest.raises(PolicyError, match=r"training.chat_model names unknown classifications \['secret'\]"):
        load_policy(bad)
    with pytest.raises(PolicyError, match="unknown deployment target"):
        decide_targets(_lineage("public"), ["moon"], load_policy())
    with pytest.raises(PolicyError, match="unknown data classification 'top-secret'"):
        decide_targets(_lineage("top-secret"), ["edge"], load_policy())


def test_distribution_config_names_targets_the_policy_knows():
    config, policy = load_distribution_config(), load_policy()
    for plan in config.models.values():
        assert set(plan.targets) <= set(policy.targets)


ACCURACY = QualityGate(metric="test_accuracy", higher_is_better=True, floor=0.5)
PERPLEXITY = QualityGate(metric="chat_test_perplexity", higher_is_better=False, floor=None, min_improvement=1.0)


@pytest.mark.parametrize(("plan", "candidate", "champion", "passed", "reason"), [
    (ACCURACY, 0.8, None, True, "no champion yet"),
    (ACCURACY, 0.4, None, False, "does not reach the floor"),
    (ACCURACY, 0.8, 0.7, True, "beats the champion"),
    (ACCURACY, 0.7, 0.7, False, "does not beat"),
    (ACCURACY, 0.6, 0.7, False, "does not beat"),
    (ACCURACY, None, 0.7, False, "has no test_accuracy"),
    (PERPLEXITY, 10.0, 12.0, True, "beats the champion"),
    (PERPLEXITY, 11.5, 12.0, False, "does not beat"),  # better, but by less than min_improvement
    (PERPLEXITY, 13.0, 12.0, False, "does not beat"),
])
def test_quality_gate(plan, candidate, champion, passed, reason):
    result = quality_gate(plan, candidate, champion)
    assert result.passed is passed and reason in result.reason


def test_quality_gate_keeps_the_champion_that_is_already_champion():
    assert quality_gate(ACCURACY, 0.8, None, is_champion_already=True).passed


def test_privacy_gate():
    clean = {"chat@1": {"passed": True, "residual_findings": 0}}
    canaries_ok = {"planted": 9, "passed": True, "max_exposure_bits": 2.0, "threshold_bits": 9.0}
    assert privacy_gate(clean, canaries_ok).passed
    assert privacy_gate(clean, None).passed  # a classifier: no canaries to extract
    dirty = privacy_gate({"chat@1": {"passed": False, "residual_findings": 2}}, canaries_ok)
    assert not dirty.passed and "residual PII found in dataset(s) chat@1" in dirty.reason
    leaked = privacy_gate(clean, {"planted": 9, "passed": False, "max_exposure_bits": 9.97, "threshold_bits": 9.0})
    assert not leaked.passed and "canary exposure" in leaked.reason
    unmeasured = privacy_gate(clean, {"planted": 0, "passed": False, "max_exposure_bits": None, "threshold_bits": 9.0})
    assert not unmeasured.passed and "no canary was evaluated" in unmeasured.reason  # never all([]) again
    assert not privacy_gate(clean, canaries_ok, withheld_samples=1).passed
    assert not privacy_gate({}, canaries_ok).passed


def test_policy_gate():
    policy = load_policy()
    refused = policy_gate(decide_targets(_lineage("restricted"), ["public_cloud"], policy))
    assert not refused.passed and refused.reason == "restricted data in its lineage may not go to public_cloud"
    assert policy_gate(decide_targets(_lineage("internal"), ["edge"], policy)).passed
