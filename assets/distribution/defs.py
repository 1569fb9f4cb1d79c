"""Distribution: MLflow registry, promotion gates, deployment bundles.
Assets join this list as the stage is built (issue: distribution)."""

GROUP = "distribution"
ASSETS: list = []
