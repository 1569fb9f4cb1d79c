"""The leak test over everything a full plant run leaves outside the four private places (landing, raw,
quarantine, purified): the sanitized zone and datasets, Dagster's SQLite event log and compute logs, the MLflow
store and artifacts, the model folders (configs, tokenizers, evaluations with their sampled generations),
the bundles and the reports — every file that is not a weight tensor is searched for every planted value.
(The PostgreSQL event log and MLflow store: tests/production.)"""

from tests.planted import planted_values

PRIVATE = ("landing", "lake/raw", "lake/quarantine", "lake/purified")
WEIGHTS = (".safetensors", ".onnx", ".bin", ".pt", ".pkl", ".pyc", ".data")


def test_no_planted_value_anywhere_outside_the_private_places(plant):
    settings, _, _ = plant
    values = planted_values(settings.landing_dir)
    home = settings.home
    searched, hits = {}, {}
    for path in sorted(home.rglob("*")):
        relative = path.relative_to(home).as_posix()
        if not path.is_file() or relative.startswith(PRIVATE) or path.suffix in WEIGHTS:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        searched[relative.split("/", 1)[0]] = searched.get(relative.split("/", 1)[0], 0) + 1
        found = [v for v in values if v in text]
        if found:
            hits[relative] = len(found)  # how many, never which
    assert {"dagster", "mlflow", "models", "bundles", "reports", "lake"} <= set(searched), searched
    assert sum(searched.values()) > 200
    assert hits == {}, f"planted values found in {hits}"
