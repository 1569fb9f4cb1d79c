"""How `waterworks mlflow-ui` starts MLflow's tracking server: the store URI by environment (it may hold the
PostgreSQL password; never on the command line), and with ``mlflow_auth`` MLflow's own basic-auth app —
users and per-experiment/model permissions in an auth database beside the tracking store, no anonymous access
(default permission NO_PERMISSIONS), the first admin's password from MLFLOW_AUTH_ADMIN_PASSWORD."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from waterworks.governance.secret_files import read_or_create

from .settings import Settings, mlflow_database_url

ADMIN_PASSWORD_VARIABLE = "MLFLOW_AUTH_ADMIN_PASSWORD"
FLASK_KEY_VARIABLE = "MLFLOW_FLASK_SERVER_SECRET_KEY"


class MlflowAuthError(ValueError):
    pass


def auth_database_uri(settings: Settings) -> str:
    """Users and permissions: a SQLite file in the private home, or the database ``<db>_mlflow_auth`` on the
    plant's PostgreSQL server."""
    if settings.postgres_url is not None:
        return mlflow_database_url(settings.postgres_url.get_secret_value()) + "_auth"
    return f"sqlite:///{settings.home / 'secrets' / 'mlflow_auth.db'}"


def write_auth_config(settings: Settings) -> Path:
    """The auth app's ini, owner-only in the home (it names the auth database, whose URL may hold a password)."""
    folder = settings.home / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "mlflow_auth.ini"
    text = ("[mlflow]\n"
            "default_permission = NO_PERMISSIONS\n"
            f"database_uri = {auth_database_uri(settings)}\n"
            "admin_username = admin\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            "grant_default_workspace_access = false\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return path


def server_command(settings: Settings, port: int | None = None) -> tuple[list[str], dict[str, str]]:
    """(argv, environment additions) of the tracking server for these settings."""
    mlflow = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    argv = [mlflow, "server", "--default-artifact-root", str(settings.mlflow_artifact_uri),
            "--host", settings.mlflow_ui_host, "--port", str(port or settings.mlflow_ui_port)]
    env = {"MLFLOW_BACKEND_STORE_URI": str(settings.mlflow_tracking_uri)}
    if settings.mlflow_auth:
        if len(os.environ.get(ADMIN_PASSWORD_VARIABLE, "")) < 12:
            raise MlflowAuthError(f"MLflow's basic-auth app is on: set {ADMIN_PASSWORD_VARIABLE} (≥ 12 characters, "
                                  "from the secret store) for its first admin, or WATERWORKS_MLFLOW_AUTH=false")
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(write_auth_config(settings))
        if not os.environ.get(FLASK_KEY_VARIABLE):  # CSRF protection: a static key, shared by every server
            env[FLASK_KEY_VARIABLE] = read_or_create(settings.home / "secrets" / "mlflow_flask.key")
        argv += ["--app-name", "basic-auth"]
    return argv, env
