"""One compliance report from the plant as it stands: gather the facts, build (assessment, schema validation,
residual check of the report itself) and write ``report.html``, ``report.json`` and ``schema.json``. What the
``compliance_report`` asset and ``waterworks report --out DIR`` call."""

from __future__ import annotations

from pathlib import Path

from waterworks.governance.report.render import ReportFiles, build_report, write_report

from .facts import PlantView, collect_facts


def produce_report(view: PlantView, out_dir: Path | str, run: dict | None = None) -> tuple[ReportFiles, dict]:
    report = build_report(collect_facts(view, run))
    return write_report(report, out_dir), report


def report_summary(report: dict) -> dict[str, object]:
    """The headline figures (the asset's metadata, the CLI's output)."""
    ia = report["impact_assessment"]
    refused = [d["training"] for d in report["policy"]["training"] if not d["passed"]] + [
        f"{m['registered_name']} v{m['version']}" for m in report["models"] if not m["deployment"]["passed"]]
    return {
        "pii_findings": report["pii"]["total_findings"],
        "sensitive_findings": ia["sensitive_findings"],
        "rows_read": report["funnel"]["totals"]["raw_rows"],
        "rows_quarantined": report["funnel"]["totals"]["quarantined_rows"],
        "rows_dropped": report["funnel"]["totals"]["dropped_rows"],
        "residual_clean": all(d["residual"]["passed"] for d in report["datasets"]),
        "canaries_safe": all(c["passed"] for c in report["canaries"]),
        "policy_refusals": ", ".join(refused) or "none",
        "articles_needing_attention": sum(a["status"] == "attention" for a in ia["articles"]),
    }
