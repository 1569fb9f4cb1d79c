"""deploy/ray/raycluster.yaml is a RayCluster that dagster-ray's KubeRay model accepts (the CRD's fields, camel
case), with the plant's image, no dashboard, usage statistics off and a non-root user; the Helm values point
the plant at it. No Kubernetes here: the manifest is validated, not applied."""

import yaml

from waterworks.pipelines.settings import Settings, project_root


def test_raycluster_manifest_validates_against_dagster_rays_model():
    from dagster_ray.kuberay.configs import RayClusterConfig

    manifest = yaml.safe_load((project_root() / "deploy/ray/raycluster.yaml").read_text(encoding="utf-8"))
    config = RayClusterConfig(api_version=manifest["apiVersion"], kind=manifest["kind"],
                              metadata=manifest["metadata"], spec=manifest["spec"])
    assert config.kind == "RayCluster" and config.api_version == "ray.io/v1"
    spec = manifest["spec"]
    assert spec["rayVersion"] == __import__("ray").__version__  # client and cluster on one Ray
    head = spec["headGroupSpec"]
    assert head["rayStartParams"]["include-dashboard"] == "false"
    for pod in [head["template"], *(g["template"] for g in spec["workerGroupSpecs"])]:
        container = pod["spec"]["containers"][0]
        assert {"name": "RAY_USAGE_STATS_ENABLED", "value": "0"} in container["env"]
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert not container["image"].endswith(":latest")


def test_helm_values_run_the_plant_on_that_cluster():
    values = yaml.safe_load((project_root() / "deploy/helm/values.yaml").read_text(encoding="utf-8"))
    deployment = values["dagster-user-deployments"]["deployments"][0]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert env["WATERWORKS_ENGINE"] == "ray"
    assert env["WATERWORKS_RAY_ADDRESS"].startswith("ray://waterworks-ray-head-svc:")
    settings = Settings(engine=env["WATERWORKS_ENGINE"], ray_address=env["WATERWORKS_RAY_ADDRESS"])
    assert settings.describe()["engine"].startswith("ray (ray://")
