"""The Dagster assets of the plant: thin wrappers over plain functions."""

from ..models import offline  # noqa: F401  (before any Hugging Face import)
