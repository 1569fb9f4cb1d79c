"""The executor of the plant's runs is configuration: in_process (default), multiprocess (max_concurrent, pools
from dagster.yaml), k8s (dagster-k8s's job executor configured from deploy/k8s_executor.yaml, validated here
against dagster-k8s's own schema — no cluster needed for that)."""

import dagster as dg
import pytest
import yaml

from waterworks.pipelines.definitions import build_definitions
from waterworks.pipelines.executors import K8S_CONFIG, executor_for, multiprocess_config
from waterworks.pipelines.jobs import PLANT_JOB
from waterworks.pipelines.settings import Settings, project_root, settings_environment


def test_in_process_by_default_multiprocess_when_asked(tmp_path):
    assert executor_for(Settings(home=tmp_path)) is dg.in_process_executor
    multi = build_definitions(Settings(home=tmp_path, executor="multiprocess", max_concurrent=3))
    assert multi.resolve_job_def(PLANT_JOB).executor_def.name == "multiprocess"
    config = multiprocess_config(Settings(home=tmp_path, max_concurrent=3))
    assert config["max_concurrent"] == 3 and "waterworks.pipelines.definitions" in config["start_method"]["forkserver"][
        "preload_modules"]


def test_pools_hold_training_to_one_step_at_a_time(tmp_path):
    settings = Settings(home=tmp_path)
    assert settings.dagster_yaml()["concurrency"]["pools"]["default_limit"] == 1
    job = build_definitions(settings).resolve_job_def(PLANT_JOB)
    pools = {node.name: node.definition.pool for node in job.graph.node_dict.values()}
    assert {name for name, pool in pools.items() if pool == "gpu"} == {
        "pretrained_lm", "chat_model", "intent_classifier", "lm_evaluation"}


def test_k8s_executor_config_validates_against_dagster_k8s(tmp_path):
    from dagster_k8s import k8s_job_executor

    job = build_definitions(Settings(home=tmp_path, executor="k8s")).resolve_job_def(PLANT_JOB)
    assert job.executor_def.name == "k8s"
    run_config = yaml.safe_load((project_root() / K8S_CONFIG).read_text(encoding="utf-8"))
    unconfigured = build_definitions(Settings(home=tmp_path)).resolve_job_def(PLANT_JOB).with_executor_def(
        k8s_job_executor)
    dg.validate_run_config(unconfigured, run_config)  # raises with the offending path if the file is wrong
    gpu_steps = run_config["execution"]["config"]["per_step_k8s_config"]
    assert {"pretrained_lm", "chat_model", "intent_classifier"} <= set(gpu_steps)
    assert gpu_steps["chat_model"]["container_config"]["resources"]["limits"]["nvidia.com/gpu"] == 1
    broken = {"execution": {"config": {"max_concurrent": "many"}}}
    with pytest.raises(dg.DagsterInvalidConfigError, match="max_concurrent"):
        dg.validate_run_config(unconfigured, broken)


def test_settings_travel_to_step_processes_through_the_environment(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path, executor="multiprocess", training_preset="tiny",
                        postgres_url="postgresql://u:secret@db:5432/plant")
    env = settings_environment(settings)
    assert env["WATERWORKS_EXECUTOR"] == "multiprocess" and env["WATERWORKS_POSTGRES_URL"].endswith("/plant")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert Settings() == settings
