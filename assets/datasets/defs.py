"""Datasets: versioned training sets built only from the sanitized zone.
Assets join this list as the stage is built (issue: datasets and training)."""

GROUP = "datasets"
ASSETS: list = []
