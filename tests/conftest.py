import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
# MLflow code that falls back to the global default store (sqlite:///mlflow.db and ./mlruns in the working
# directory) must not write into the checkout: point the default at a throwaway folder.
os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{tempfile.mkdtemp(prefix='stray-mlflow-')}/mlflow.db")


@pytest.fixture(scope="session")
def estate_dir(tmp_path_factory) -> Path:
    """A small demo estate (scale 1), generated once per test session."""
    from waterworks.assets.source.demo_estate import generate_estate

    out = tmp_path_factory.mktemp("estate")
    generate_estate(out, seed=7, scale=1)
    return out


@pytest.fixture
def fresh_home(tmp_path, estate_dir) -> Path:
    """A Waterworks home whose landing folder holds a copy of the demo estate."""
    home = tmp_path / "home"
    shutil.copytree(estate_dir, home / "landing")
    return home


@pytest.fixture(scope="session")
def plant(tmp_path_factory, estate_dir):
    """One full plant run (every stage through Dagster) over a copy of the demo estate, shared by the tests that
    only read its results. Returns (settings, run summary, the lines the run logged)."""
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    home = tmp_path_factory.mktemp("plant")
    shutil.copytree(estate_dir, home / "landing")
    settings = Settings(home=home, training_preset="tiny")  # tiny models: the plant's training in seconds
    lines: list[str] = []
    first = run_plant(settings, log=lines.append)
    return settings, first, lines
