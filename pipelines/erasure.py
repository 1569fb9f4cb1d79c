"""`waterworks forget`: the erasure request launched through Dagster (``forget_job``, recorded like any run),
then the plant run that rebuilds what was deleted and retrains what was retired; that run's
``erasure_requests`` asset proves the request complete. Prints counts, never the value."""

from __future__ import annotations

import getpass
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from waterworks.assets.erasure.defs import FORGET_JOB
from waterworks.assets.erasure.ledger import read_ledger
from waterworks.assets.lake import Lake, restrict_umask

from .run import QUIET, PlantRunSummary, run_plant, step_errors
from .settings import Settings, prepare_dagster_home


def subject_file_for(settings: Settings, value: str) -> Path:
    """An owner-only file holding the value, for the job's config (the job deletes it once read)."""
    folder = settings.home / "erasure"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, path = tempfile.mkstemp(dir=folder, prefix=".subject-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(value.strip() + "\n")
    return Path(path)


def forget_subject(settings: Settings, subject_file: Path, actor: str | None = None, rebuild: bool = True,
                   log: Callable[[str], None] = print) -> tuple[dict, PlantRunSummary | None]:
    """Run ``forget_job`` on ``subject_file`` (deleted by the job), then, with ``rebuild``, the plant. Returns
    the request's latest ledger entry and the plant run's summary."""
    import dagster as dg

    from .definitions import build_definitions

    restrict_umask()
    prepare_dagster_home(settings)
    actor = actor or f"{getpass.getuser()} via waterworks forget"
    config = {"ops": {"erase_subject": {"config": {"subject_file": str(subject_file), "requested_by": actor}}}}
    with dg.DagsterInstance.get() as instance:
        result = build_definitions(settings).resolve_job_def(FORGET_JOB).execute_in_process(
            instance=instance, run_config={**QUIET, **config}, raise_on_error=False)
        if not result.success:
            raise RuntimeError(f"{FORGET_JOB} failed: {'; '.join(step_errors(instance, result.run_id))}")
        request_id = result.output_for_node("erase_subject")["request_id"]
    log(f"erasure {request_id}: erased; rebuilding" if rebuild else f"erasure {request_id}: erased")
    summary = run_plant(settings, log=log) if rebuild else None
    entry = next(e for e in read_ledger(Lake(str(settings.lake_uri))) if e["request_id"] == request_id)
    return entry, summary
