import json

import pytest

from waterworks.pipelines.settings import Profile, Settings


def test_local_profile_keeps_everything_under_home(tmp_path):
    s = Settings(home=tmp_path)
    assert s.profile is Profile.local
    assert s.landing_dir == tmp_path / "landing"
    assert s.lake_uri == str(tmp_path / "lake")
    assert s.dagster_home == tmp_path / "dagster"
    assert s.mlflow_tracking_uri == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert s.dagster_yaml()["storage"] == {"sqlite": {"base_dir": str(tmp_path / "dagster" / "storage")}}


def test_environment_variables_override(monkeypatch, tmp_path):
    monkeypatch.setenv("WATERWORKS_HOME", str(tmp_path))
    monkeypatch.setenv("WATERWORKS_DEMO_SCALE", "3")
    s = Settings()
    assert s.home == tmp_path and s.demo_scale == 3


def test_config_file_is_read_and_env_wins(monkeypatch, tmp_path):
    config = tmp_path / "ww.yaml"
    config.write_text(f"home: {tmp_path}\ndemo_seed: 11\ndemo_scale: 2\n")
    monkeypatch.setenv("WATERWORKS_CONFIG", str(config))
    monkeypatch.setenv("WATERWORKS_DEMO_SCALE", "5")
    s = Settings()
    assert (s.demo_seed, s.demo_scale, s.home) == (11, 5, tmp_path)
    monkeypatch.setenv("WATERWORKS_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        Settings()


def test_production_profile_is_validated(tmp_path, monkeypatch):
    monkeypatch.delenv("WATERWORKS_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValueError) as err:
        Settings(home=tmp_path, profile="production", lake_uri=str(tmp_path / "lake"))
    message = str(err.value)
    assert "WATERWORKS_POSTGRES_URL" in message and "WATERWORKS_LAKE_URI" in message
    assert "WATERWORKS_PSEUDONYM_KEY" in message  # every worker must share one key, from the secret store
    monkeypatch.setenv("WATERWORKS_PSEUDONYM_KEY", "a key from the secret store")
    s = Settings(home=tmp_path, profile="production", postgres_url="postgresql://ww:secret@db:5432/ww",
                 lake_uri="s3://lake/waterworks", mlflow_artifact_uri="s3://lake/mlflow")
    assert s.dagster_yaml()["storage"] == {"postgres": {"postgres_url": {"env": "WATERWORKS_DAGSTER_POSTGRES_URL"}}}
    assert "secret" not in repr(s) and "secret" not in str(s.describe())
    assert s.mlflow_tracking_uri == "postgresql+psycopg2://ww:secret@db:5432/ww_mlflow"  # MLflow and Dagster share table names
    local = Settings(home=tmp_path, postgres_url="postgresql://ww@127.0.0.1:5433/plant")  # local, on PostgreSQL
    assert local.dagster_yaml()["storage"] == s.dagster_yaml()["storage"]
    assert local.mlflow_tracking_uri == "postgresql+psycopg2://ww@127.0.0.1:5433/plant_mlflow"
    assert local.lake_uri == str(tmp_path / "lake")


def test_secrets_are_masked_in_any_url_and_never_in_resource_config(tmp_path, monkeypatch):
    import dagster as dg

    from waterworks.pipelines.resources import resources_for
    from waterworks.pipelines.settings import mask_secrets

    assert mask_secrets("http://alice:pw@mlflow:5000/x") == "http://alice:***@mlflow:5000/x"
    assert mask_secrets("s3://b/lake?endpoint_override=h&secret_key=SK") == "s3://b/lake?endpoint_override=h&secret_key=***"
    assert mask_secrets("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    monkeypatch.setenv("WATERWORKS_MLFLOW_TRACKING_URI", "restored after the test")  # secret_safe sets it
    uri = "http://plant:hunter2hunter2@mlflow.internal:5000"
    settings = Settings(home=tmp_path, mlflow_tracking_uri=uri)
    assert "hunter2" not in json.dumps(settings.describe())
    mlflow = resources_for(settings)["mlflow"]
    # the resource's config is the variable's name (what the UI and run records show), resolved only at run time
    assert isinstance(mlflow.tracking_uri, dg.EnvVar)
    assert mlflow.tracking_uri.env_var_name == "WATERWORKS_MLFLOW_TRACKING_URI"
    with dg.build_resources({"mlflow": mlflow}) as built:
        assert built.mlflow.tracking_uri == uri
    plain = resources_for(Settings(home=tmp_path, mlflow_tracking_uri=f"sqlite:///{tmp_path}/m.db"))["mlflow"]
    assert not isinstance(plain.tracking_uri, dg.EnvVar)  # nothing secret: shown as it is


def test_every_stage_config_hangs_off_the_settings(tmp_path, monkeypatch):
    """One table declares each stage's file setting and shipped default; the settings fill the files from it,
    ``settings.configs`` loads them validated, and the resources read the same files."""
    from waterworks.assets.purification.config import PurificationConfig
    from waterworks.assets.stage_configs import STAGE_CONFIGS
    from waterworks.pipelines.resources import resources_for

    s = Settings(home=tmp_path)
    for stage, spec in STAGE_CONFIGS.items():
        assert getattr(s, spec.setting) == spec.default and spec.default.is_file(), stage
    s.configs.validate()
    assert isinstance(s.configs.purification, PurificationConfig)
    assert s.configs["training"].preset(None) is s.configs.training.preset("cpu")  # loaded once, kept
    resources = resources_for(s)
    assert resources["configs"].files == {stage: str(path) for stage, path in s.configs.files.items()}
    assert resources["training"].training_config() == s.configs.training
    assert resources["governance"].policy() == s.configs.policy

    # a stage file named by a variable replaces the default, and a broken one fails naming itself
    broken = tmp_path / "sanitation.yaml"
    broken.write_text("operator: shred\n")
    monkeypatch.setenv("WATERWORKS_SANITATION_FILE", str(broken))
    named = Settings(home=tmp_path)
    assert named.sanitation_file == broken and named.configs.files["sanitation"] == broken
    with pytest.raises(ValueError, match=f"{broken}.*operator"):
        named.configs.validate()


def test_stage_modules_do_not_restate_their_default_file():
    """The shipped default of a stage config is written once (assets/stage_configs.py): no stage module or the
    settings names a stage YAML of its own in a string (docstrings may mention the file by name)."""
    import re

    from waterworks.pipelines.settings import project_root

    root = project_root()
    restated = [str(path.relative_to(root)) for folder in ("assets", "pipelines") for path in (root / folder).rglob("*.py")
                if path.name != "stage_configs.py"
                and re.search(r"[\"'][\w/.]*\b(sources|purification|sanitation|datasets|training|distribution|policy)\.yaml[\"']",
                              path.read_text(encoding="utf-8"))]
    assert restated == []


def test_chromium_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("WATERWORKS_CHROMIUM", "/opt/chrome/chrome")
    assert Settings(home=tmp_path).chromium == "/opt/chrome/chrome"


def test_the_renamed_training_variable_is_refused_not_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("WATERWORKS_TRAINING_PROFILE", "gpu")
    with pytest.raises(ValueError, match="WATERWORKS_TRAINING_PRESET"):
        Settings(home=tmp_path)
