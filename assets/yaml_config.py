"""Loading a stage's YAML config into its pydantic model, with errors that name the file and the field."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def config_hash(config: BaseModel) -> str:
    """A short digest of a config's effective values: recorded with what it produced, so a change is visible."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


class StrictModel(BaseModel):
    """Base of the stage configs' sections: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def load_yaml_model(path: Path, model: type[Model], what: str, error: type[Exception]) -> Model:
    """``what`` names the config in messages ("the sanitation config"); ``error`` is the stage's error type."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return model.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise error(f"{path}: invalid {what.removeprefix('the ')}: {problems}") from exc
