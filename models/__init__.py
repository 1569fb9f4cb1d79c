"""Training, evaluation, serving and export of models (no Dagster)."""

from . import offline  # noqa: F401  (before any Hugging Face import)
