"""The production MLflow server's access control, on one machine: `waterworks mlflow-ui`'s command with MLflow's
basic-auth app, real users over HTTP — anonymous requests refused, a wrong password refused, a new user without
permissions refused on an experiment the admin can read; the store URI never on the command line."""

import base64
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from waterworks.pipelines.mlflow_server import MlflowAuthError, server_command
from waterworks.pipelines.settings import Settings

ADMIN_PASSWORD = "an admin password for this test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(port: int, path: str, user: tuple[str, str] | None = None, body: dict | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if body else "GET",
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    if user:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(user).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError):
        return 0  # not listening yet


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_AUTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
    settings = Settings(home=tmp_path / "home", mlflow_auth=True)
    (tmp_path / "home" / "mlflow").mkdir(parents=True)
    port = _free_port()
    argv, env = server_command(settings, port)
    assert str(settings.mlflow_tracking_uri) not in " ".join(argv)  # the store URI goes by environment
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=tmp_path, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _call(port, "/health") != 200:
            assert process.poll() is None and time.monotonic() < deadline, "the MLflow server did not start"
            time.sleep(1)
        yield port, settings
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def test_anonymous_and_wrong_passwords_are_refused_and_users_need_permissions(server):
    port, settings = server
    search = "/api/2.0/mlflow/experiments/get?experiment_id=0"
    assert _call(port, search) == 401                                   # anonymous: refused
    assert _call(port, search, ("admin", "not the password")) == 401    # wrong password: refused
    assert _call(port, search, ("admin", ADMIN_PASSWORD)) == 200        # the admin reads
    created = _call(port, "/api/2.0/mlflow/users/create", ("admin", ADMIN_PASSWORD),
                    {"username": "analyst", "password": "an analyst password"})
    assert created == 200
    assert _call(port, search, ("analyst", "an analyst password")) == 403  # signed in, but no permission
    assert oct((settings.home / "secrets" / "mlflow_auth.ini").stat().st_mode & 0o777) == "0o600"


def test_auth_without_an_admin_password_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_AUTH_ADMIN_PASSWORD", raising=False)
    with pytest.raises(MlflowAuthError, match="MLFLOW_AUTH_ADMIN_PASSWORD"):
        server_command(Settings(home=tmp_path, mlflow_auth=True))
