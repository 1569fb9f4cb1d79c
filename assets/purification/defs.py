"""Purification: canonical records and documents, normalization, quality filters, deduplication.
Assets join this list as the stage is built (issue: purification)."""

GROUP = "purification"
ASSETS: list = []
