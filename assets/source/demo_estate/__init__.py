"""The demo estate: a deterministic synthetic enterprise estate with planted PII and a ground truth."""

from .generate import generate_estate

__all__ = ["generate_estate"]
