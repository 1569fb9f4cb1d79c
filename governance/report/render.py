"""The compliance report from the plant's facts: the impact assessment added, validated against its JSON
schema, checked for anything that looks like a personal-data value, and written as ``report.json`` (with
``schema.json`` beside it) and ``report.html`` — one self-contained page (inline CSS and SVG charts, no script,
nothing fetched). Plain code, no Dagster; ``assets/reporting`` gathers the facts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..files import write_atomically
from . import charts
from .piia import impact_assessment

SCHEMA_FILE = Path(__file__).with_name("schema.json")
TEMPLATE_FILE = Path(__file__).with_name("report.html.j2")
SCHEMA_VERSION = "1.0"
# Strings that are identifiers, not text: content hashes, versions, run ids (scanning them for ID-shaped digit
# runs would only find false alarms).
_HEX_ID = re.compile(r"^(?:[0-9a-f]{8,64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


class ReportError(ValueError):
    pass


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    json: Path
    schema: Path


def load_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validate(report: dict, without: tuple[str, ...] = ()) -> None:
    """Raise ReportError listing every place the report breaks its schema (``without``: top-level sections
    not made yet, e.g. the assessment before it is derived from the facts)."""
    import jsonschema

    schema = load_schema()
    schema["required"] = [key for key in schema["required"] if key not in without]
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
    if errors:
        raise ReportError("the report does not match governance/report/schema.json: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}" for e in errors[:10]))


def _strings(value, path: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}/{i}")
    elif isinstance(value, str) and not _HEX_ID.match(value):
        yield path, value


# Fields that hold the plant's own identifiers (content digests, dataset versions, model keys, run ids): hex
# strings whose digit runs may read as a phone number (dataset version 4b00351909bc: "00351909…").
_ID_FIELDS = frozenset({"version", "model_key", "key", "run_id", "by_run", "digest", "sha256", "inputs_key",
                        "dataset_version", "request_id", "files_sha256"})
_HEX_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{8,64}(?![0-9A-Za-z])")
_DATA_REF = re.compile(r"[\w-]+@([0-9a-f]{8,64})")  # "dataset": "corpus@4b00351909bc" names a data version


def _own_ids(value, key: str = "") -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_own_ids(item, k) for k, item in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(_own_ids(item, key) for item in value)) if value else set()
    if isinstance(value, str) and (_HEX_ID.match(value) or (key in _ID_FIELDS and _HEX_RUN.fullmatch(value))):
        return {value}
    if isinstance(value, str) and key == "dataset" and (reference := _DATA_REF.fullmatch(value)):
        return {reference.group(1)}
    return set()


def residual_values(report: dict) -> tuple[dict[str, int], list[str]]:
    """Findings of the independent residual detector over every string of the report: ({type: count}, the
    JSON paths that hold them). Types, counts and places, never the value. The report's own identifiers
    (versions, keys, digests, run ids — collected from their fields) are blanked inside other strings first:
    ``chat@4b00351909bc`` names a dataset version, not a phone."""
    from waterworks.governance.pii.residual import ResidualReport

    own = _own_ids(report)
    scan = ResidualReport()
    for path, text in _strings(report):
        if own:
            text = _HEX_RUN.sub(lambda m: "" if m.group() in own else m.group(), text)
        scan.add(path, "report", text)
    return dict(scan.by_type), sorted(scan.rows)


def build_report(facts: dict) -> dict:
    report = {"schema_version": SCHEMA_VERSION, **facts}
    validate(report, without=("impact_assessment",))  # the facts first: the assessment reads them
    report["impact_assessment"] = impact_assessment(facts)
    validate(report)
    found, where = residual_values(report)
    if found:
        raise ReportError(f"the report would hold values shaped like personal data ({found}) at "
                          f"{', '.join(where[:10])}; not written")
    return report


def render_charts(report: dict) -> dict[str, str]:
    targets = list(report["policy"]["target_rules"])
    return {
        "pii_type_by_source": charts.pii_type_by_source(report["pii"]),
        "pii_type_by_language": charts.pii_type_by_language(report["pii"]),
        "operators": charts.operators_applied(report["pii"]),
        "funnel": charts.record_funnel(report["funnel"]),
        "reasons": charts.drop_and_quarantine_reasons(report["funnel"]),
        "canaries": charts.canary_exposure(report["canaries"]),
        "policy": charts.policy_matrix(report["models"], targets),
    }


def render_html(report: dict) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    template = env.from_string(TEMPLATE_FILE.read_text(encoding="utf-8"))
    svgs = {name: jinja2.utils.markupsafe.Markup(svg) for name, svg in render_charts(report).items()}
    return template.render(r=report, charts=svgs)


def _write(path: Path, text: str) -> None:
    write_atomically(path, text)


def write_report(report: dict, out_dir: Path | str) -> ReportFiles:
    """``report.json``, ``schema.json`` and ``report.html`` in ``out_dir`` (created), each written atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out / "report.html", out / "report.json", out / "schema.json")
    _write(files.schema, SCHEMA_FILE.read_text(encoding="utf-8"))
    _write(files.json, json.dumps(report, indent=1, ensure_ascii=False, sort_keys=False) + "\n")
    _write(files.html, render_html(report))
    return files


def print_pdf(html: Path, chromium: str | None = None) -> Path:
    """``report.pdf`` beside ``report.html``, printed by headless Chromium (the page has print styles). Optional:
    needs a Chromium binary (``chromium``: the settings' ``chromium``, else chromium / chromium-browser /
    google-chrome on PATH)."""
    import shutil
    import subprocess
    import tempfile

    binary = chromium or next(
        (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
    if not binary:
        raise ReportError("no Chromium to print the PDF with: install chromium or set WATERWORKS_CHROMIUM to one")
    pdf = Path(html).with_suffix(".pdf")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                               f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", Path(html).resolve().as_uri()],
                              capture_output=True, text=True, timeout=180)
    if done.returncode != 0 or not pdf.is_file():
        raise ReportError(f"{binary} could not print {html} to PDF (exit {done.returncode})")
    return pdf
