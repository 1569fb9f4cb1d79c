import json
import subprocess
import sys
from pathlib import Path

WATERWORKS = Path(sys.executable).parent / "waterworks"


def test_demo_estate_command_writes_the_estate_and_ground_truth(tmp_path):
    out = tmp_path / "estate"
    result = subprocess.run([str(WATERWORKS), "demo-estate", "--out", str(out), "--seed", "3", "--scale", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "planted PII values" in result.stdout
    estate = json.loads((out / "estate.json").read_text())
    assert estate["seed"] == 3 and (out / "manifest.jsonl").stat().st_size > 0
    assert (out / "erp" / "erp.sqlite").exists() and (out / "mail" / "support_inbox.mbox").exists()


def test_settings_command_masks_secrets_and_bad_profile_fails_clearly(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "WATERWORKS_HOME": str(tmp_path), "WATERWORKS_PROFILE": "production",
           "WATERWORKS_POSTGRES_URL": "postgresql://u:hunter2@db/ww", "WATERWORKS_LAKE_URI": "s3://b/lake",
           "WATERWORKS_MLFLOW_ARTIFACT_URI": "s3://b/mlflow", "WATERWORKS_PSEUDONYM_KEY": "a key from the store"}
    ok = subprocess.run([str(WATERWORKS), "settings"], capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["profile"] == "production" and "hunter2" not in ok.stdout
    assert "a key from the store" not in ok.stdout
    env.pop("WATERWORKS_LAKE_URI")
    bad = subprocess.run([str(WATERWORKS), "settings"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "WATERWORKS_LAKE_URI" in bad.stderr and "hunter2" not in bad.stderr


def test_redact_and_scan_use_the_plant_engine_settings(tmp_path):
    """`scan` and `redact` analyze with the engine the settings describe: the learned detector by default,
    none when WATERWORKS_PII_DETECTOR=none (then a bare name is not found)."""
    source = tmp_path / "notes.jsonl"
    source.write_text(json.dumps({"id": 1, "body": "Please ask Margaret Okafor to approve it."}) + "\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "WATERWORKS_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1",
           "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    found = subprocess.run([str(WATERWORKS), "scan", "--in", str(source)], capture_output=True, text=True, env=env,
                           timeout=300)
    assert found.returncode == 1 and json.loads(found.stdout)["by_type"] == {"PERSON": 1}, found.stdout + found.stderr
    off = subprocess.run([str(WATERWORKS), "scan", "--in", str(source)], capture_output=True, text=True,
                         env={**env, "WATERWORKS_PII_DETECTOR": "none"}, timeout=300)
    assert off.returncode == 0, off.stdout + off.stderr
    out = tmp_path / "notes.redacted.jsonl"
    redacted = subprocess.run([str(WATERWORKS), "redact", "--in", str(source), "--out", str(out), "--text-field",
                               "body"], capture_output=True, text=True, env=env, timeout=300)
    assert redacted.returncode == 0 and "Okafor" not in out.read_text() and "<PERSON>" in out.read_text()
    assert "Okafor" not in redacted.stdout + redacted.stderr
