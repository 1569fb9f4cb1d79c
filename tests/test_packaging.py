"""The code installs under one namespace, ``waterworks``: nothing generic (assets, models, pipelines,
governance) lands in site-packages, every package folder is listed in pyproject, and no module imports the
folders by their bare names (which would work from the repository root and break once installed)."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = ("assets", "models", "pipelines", "governance")
BARE = re.compile(rf"^\s*(from|import) ({'|'.join(TOP)})(\.|\s|$)", re.M)
BARE_STRING = re.compile(rf"[\"']({'|'.join(TOP)})\.(recipes|definitions|cli|launch|pii)\b")


def test_every_package_folder_is_installed_under_the_waterworks_namespace():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    folders = {".".join(("waterworks", *p.parent.relative_to(ROOT).parts)) for top in TOP
               for p in (ROOT / top).rglob("__init__.py")}
    assert set(config["packages"]) == folders
    assert config["package-dir"] == {f"waterworks.{top}": top for top in TOP}


def test_no_module_imports_a_top_level_folder_by_its_bare_name():
    offenders = []
    for path in [*ROOT.glob("*/**/*.py")]:
        if path.relative_to(ROOT).parts[0] in (".venv", ".waterworks", "test-artifacts"):
            continue
        text = path.read_text(encoding="utf-8")
        if BARE.search(text) or BARE_STRING.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_outside_the_repository_only_the_namespace_is_importable(tmp_path):
    probe = ("import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None for m in "
             "['waterworks.assets.lake', 'waterworks.pipelines.cli', 'assets', 'models', 'pipelines', "
             "'governance']}))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin"})
    import json

    found = json.loads(out.stdout)
    assert found["waterworks.assets.lake"] and found["waterworks.pipelines.cli"]
    assert not any(found[m] for m in TOP)
