"""Sanitation: PII detection and redaction, residual-PII check, audit ledger.
Assets join this list as the stage is built (issue: sanitation)."""

GROUP = "sanitation"
ASSETS: list = []
