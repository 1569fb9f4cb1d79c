"""The `waterworks` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _cmd_demo_estate(args: argparse.Namespace) -> int:
    from waterworks.assets.source.demo_estate import generate_estate

    summary = generate_estate(Path(args.out), seed=args.seed, scale=args.scale)
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    print(f"demo estate: {len(summary['files'])} files, {size / 1e6:.1f} MB, {summary['planted_values']} planted "
          f"PII values → {args.out} (ground truth: manifest.jsonl, estate.json)")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from waterworks.assets.lake import Lake

    from .run import run_plant
    from .settings import get_settings

    settings = get_settings()
    landing = settings.landing_dir
    if args.demo and not (landing / "estate.json").exists() and not any(landing.glob("*/*")):
        from waterworks.assets.source.demo_estate import generate_estate

        print(f"landing folder is empty: generating the demo estate (seed {settings.demo_seed}, "
              f"scale {settings.demo_scale}) into {landing}")
        generate_estate(landing, seed=settings.demo_seed, scale=settings.demo_scale)
    print(f"running the plant ({settings.profile.value} profile) on {landing}")
    summary = run_plant(settings, full=args.full, ingest_only=args.ingest_only)
    lake = Lake(str(settings.lake_uri))
    raw_files = lake.list_parquet("raw")
    quarantine_files = lake.list_parquet("quarantine")
    print(f"\n{len(summary.ingested)} file(s) ingested, {summary.up_to_date} up to date, "
          f"{len(summary.failed)} failed, {len(summary.run_ids)} Dagster run(s) in {summary.seconds:.1f}s")
    print(f"  raw zone:        {lake.uri('raw', '')}  ({len(raw_files)} Parquet files)")
    print(f"  quarantine zone: {lake.uri('quarantine', '')}  ({len(quarantine_files)} Parquet files)")
    for table in ("records", "documents"):
        if lake.table_exists("purified", table):
            print(f"  {'purified ' + table + ':':<21} {lake.uri('purified', table)}/  "
                  f"({lake.table_rows('purified', table)} rows in {len(lake.table_parts('purified', table))} "
                  f"part(s); dropped, with reasons: {lake.table_rows('purified', 'excluded/' + table)} in "
                  "purified/excluded/)")
    for table in ("records", "documents"):
        if lake.table_exists("sanitized", table):
            print(f"  {'sanitized ' + table + ':':<21} {lake.uri('sanitized', table)}/  "
                  f"({lake.table_rows('sanitized', table)} rows; audit ledger: "
                  f"{lake.row_count('sanitized', 'ledger/' + table + '.parquet')} rows in sanitized/ledger/)")
    _print_datasets_and_models(settings, lake)
    _print_registry_and_bundles(settings)
    latest = settings.reports_dir / "latest.json"
    if latest.is_file():
        print(f"  compliance report: {json.loads(latest.read_text(encoding='utf-8'))['html']}")
    print(f"  Dagster runs:    DAGSTER_HOME={settings.dagster_home} — `make ui`, then "
          f"http://127.0.0.1:{settings.dagster_ui_port}/runs")
    print(f"  MLflow:          `make mlflow-ui`, then http://127.0.0.1:{settings.mlflow_ui_port}")
    for label in summary.failed:
        print(f"  FAILED: {label} (see the run in the Dagster UI)", file=sys.stderr)
        for reason in summary.errors.get(label, []):
            print(f"          {reason}", file=sys.stderr)
    return 0 if summary.ok else 1


def _print_datasets_and_models(settings, lake) -> None:
    from waterworks.assets.datasets.build import DATASETS
    from waterworks.assets.datasets.store import ZONE, read_card
    from waterworks.assets.products import PRODUCTS

    for name in DATASETS:
        if lake.exists(ZONE, f"{name}/current.json"):
            card = read_card(lake, name)
            rows = "/".join(str(card["rows"][s]) for s in ("train", "validation", "test"))
            print(f"  {'dataset ' + name + ':':<25} {lake.uri(ZONE, name + '/' + card['version'])}  "
                  f"(train/validation/test {rows})")
    for name in (p.name for p in PRODUCTS):
        pointer = settings.models_dir / name / "current.json"
        if pointer.is_file():
            folder = settings.models_dir / name / json.loads(pointer.read_text(encoding="utf-8"))["key"]
            summary = json.loads((folder / "training.json").read_text(encoding="utf-8"))
            score = (f"val accuracy {summary['val_accuracy']:.3f}" if "val_accuracy" in summary
                     else f"val perplexity {summary['perplexity']:.1f}" if summary.get("perplexity") else "")
            print(f"  {'model ' + name + ':':<25} {folder}  ({summary['steps']} steps, {summary['seconds']:.0f}s, "
                  f"{score})")


def _print_registry_and_bundles(settings) -> None:
    if not str(settings.mlflow_tracking_uri).startswith("sqlite:///") or not Path(
            str(settings.mlflow_tracking_uri)[len("sqlite:///"):]).is_file():
        return
    from waterworks.assets.distribution.registry import CANDIDATE, CHAMPION, alias_version
    from waterworks.assets.tracking import mlflow_client

    client = mlflow_client(str(settings.mlflow_tracking_uri))
    for plan in settings.configs.distribution.models.values():
        candidate, champion = (alias_version(client, plan.registered_name, a) for a in (CANDIDATE, CHAMPION))
        if candidate is None:
            continue
        refused = [k[5:] for k, v in candidate.tags.items() if k.startswith("gate.") and v == "refused"]
        print(f"  {'registry ' + plan.registered_name + ':':<40} candidate v{candidate.version}, champion "
              f"{f'v{champion.version}' if champion else 'none'}"
              + (f" (candidate refused by the {', '.join(refused)} gate)" if refused else ""))
    for manifest in sorted(settings.bundles_dir.glob("*/*/v*/manifest.json")):
        size = sum(p.stat().st_size for p in manifest.parent.rglob("*") if p.is_file())
        print(f"  {'bundle ' + manifest.parent.parent.parent.name + ':':<25} {manifest.parent}  ({size / 1e6:.1f} MB)")


def _cmd_settings(args: argparse.Namespace) -> int:
    from .settings import get_settings

    print(json.dumps(get_settings().describe(), indent=1))
    return 0


def _cmd_prepare_home(args: argparse.Namespace) -> int:
    from .settings import get_settings, prepare_dagster_home

    print(prepare_dagster_home(get_settings()))
    return 0


def _cmd_ui(args: argparse.Namespace) -> int:
    """Dagster webserver and daemon (sensors and schedules run) on loopback, on the project's DAGSTER_HOME."""
    import os
    import shutil

    from .settings import get_settings, prepare_dagster_home

    settings = get_settings()
    prepare_dagster_home(settings)
    root = Path(__file__).resolve().parents[1]
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
    print(f"Dagster UI on http://127.0.0.1:{settings.dagster_ui_port} (DAGSTER_HOME={settings.dagster_home}); "
          "Ctrl-C stops it", flush=True)
    os.chdir(root)
    os.execv(dagster, [dagster, "dev", "-w", str(root / "workspace.yaml"), "-h", "127.0.0.1",
                       "-p", str(settings.dagster_ui_port)])
    return 0  # pragma: no cover


def _cmd_mlflow_ui(args: argparse.Namespace) -> int:
    """The MLflow UI on the project's tracking store (loopback by default); with WATERWORKS_MLFLOW_AUTH (on in
    production) MLflow's basic-auth app: sign-in required, no anonymous access."""
    import os

    from .mlflow_server import server_command
    from .settings import get_settings

    settings = get_settings()
    if str(settings.mlflow_tracking_uri).startswith("sqlite:///"):
        Path(str(settings.mlflow_tracking_uri)[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    Path(str(settings.mlflow_artifact_uri)).mkdir(parents=True, exist_ok=True) if "://" not in str(
        settings.mlflow_artifact_uri) else None
    argv, env = server_command(settings)
    auth = " (sign-in required)" if settings.mlflow_auth else ""
    print(f"MLflow UI on http://{settings.mlflow_ui_host}:{settings.mlflow_ui_port}{auth}; Ctrl-C stops it",
          flush=True)
    os.environ.update(env)
    os.execv(argv[0], argv)
    return 0  # pragma: no cover


def _cmd_serve(args: argparse.Namespace) -> int:
    """A registered model by alias (default: the intent classifier's champion) over HTTP on loopback, through
    ``mlflow models serve`` in this environment (no environment creation) — only a version the plant promoted,
    downloaded and checked against the file digest recorded at promotion (a pickled pyfunc runs code)."""
    import os
    import shutil
    import tempfile

    from waterworks.assets.distribution.registry import promotion_ledger, verified_download
    from waterworks.assets.tracking import mlflow_client

    from .settings import get_settings

    settings = get_settings()
    name = settings.configs.distribution.plan(args.model).registered_name
    os.environ["MLFLOW_TRACKING_URI"] = str(settings.mlflow_tracking_uri)
    os.environ["MLFLOW_REGISTRY_URI"] = str(settings.mlflow_tracking_uri)
    staging = Path(tempfile.mkdtemp(prefix="serve-", dir=settings.home))
    folder = verified_download(mlflow_client(str(settings.mlflow_tracking_uri)), str(settings.mlflow_tracking_uri),
                               name, args.alias, promotion_ledger(settings.models_dir), staging)
    port = args.port or settings.serve_port
    bin_dir = str(Path(sys.executable).parent)  # mlflow starts uvicorn by name: this environment's, not another
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    mlflow = shutil.which("mlflow", path=bin_dir) or "mlflow"
    print(f"serving models:/{name}@{args.alias} (verified) on http://127.0.0.1:{port}/invocations (POST "
          '{"dataframe_records": [{"text": "..."}]}); Ctrl-C stops it', flush=True)
    os.execv(mlflow, [mlflow, "models", "serve", "-m", str(folder), "--env-manager", "local",
                      "-h", "127.0.0.1", "-p", str(port), "--workers", "1"])
    return 0  # pragma: no cover


def _cmd_forget(args: argparse.Namespace) -> int:
    from .erasure import forget_subject, subject_file_for
    from .settings import get_settings

    settings = get_settings()
    if args.subject_file:
        subject_file = args.subject_file
    else:
        value = sys.stdin.readline() if args.subject == "-" else args.subject
        subject_file = subject_file_for(settings, value)
    entry, summary = forget_subject(settings, subject_file, rebuild=not args.no_rebuild)
    removed = {zone: counts.get("rows_removed", 0) for zone, counts in entry.get("zones", {}).items()}
    print(f"erasure {entry['request_id']}: {entry['status']}")
    print(f"  rows removed by zone: {removed}")
    print(f"  landing files edited: {len(entry.get('landing', []))}; dataset versions deleted: "
          f"{len(entry.get('datasets_deleted', []))}; models retired: {len(entry.get('models_retired', []))}")
    if entry.get("champions_after") is not None:
        print(f"  champions after the retrain: {entry['champions_after']}")
    if entry.get("residual"):
        print(f"  STILL FOUND in {len(entry['residual'])} place(s): {entry['residual'][:5]}", file=sys.stderr)
    return 0 if entry["status"] in ("completed", "erased; rebuild pending") and (summary is None or summary.ok) else 1


def _cmd_lineage(args: argparse.Namespace) -> int:
    from waterworks.assets.distribution.lineage import lineage_text, model_lineage
    from waterworks.assets.lake import Lake
    from waterworks.assets.tracking import mlflow_client

    from .settings import get_settings

    settings = get_settings()
    lineage = model_lineage(mlflow_client(str(settings.mlflow_tracking_uri)), Lake(str(settings.lake_uri)), args.model)
    print(json.dumps(lineage, indent=1, ensure_ascii=False) if args.json else lineage_text(lineage))
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    import csv

    from waterworks.assets.datasets.catalog import query_catalog
    from waterworks.assets.lake import Lake

    from .settings import get_settings

    settings = get_settings()
    if not settings.catalog_file.is_file():
        raise FileNotFoundError(f"no catalog at {settings.catalog_file}: run the plant first (make run)")
    import duckdb

    try:
        columns, rows = query_catalog(Lake(str(settings.lake_uri)), settings.catalog_file, args.sql)
    except duckdb.Error as exc:
        print(f"waterworks query: {exc}", file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, delimiter="\t" if args.format == "tsv" else ",", lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return 0


def plant_view(settings):
    """The plant as the settings place it, for reports."""
    from waterworks.assets.lake import Lake
    from waterworks.assets.reporting.facts import PlantView
    from waterworks.assets.tracking import mlflow_client

    configs = settings.configs
    return PlantView(Lake(str(settings.lake_uri)), configs.sources, settings.models_dir, configs.policy,
                     mlflow_client(str(settings.mlflow_tracking_uri)), configs.distribution, settings.bundles_dir,
                     settings.declared_access())


def _cmd_report(args: argparse.Namespace) -> int:
    from waterworks.assets.reporting.build import produce_report, report_summary

    from .settings import get_settings

    settings = get_settings()
    if not Path(str(settings.lake_uri)).exists() and "://" not in str(settings.lake_uri):
        raise FileNotFoundError(f"no lake at {settings.lake_uri}: run the plant first (make run)")
    out = Path(args.out) if args.out else settings.reports_dir / "manual"
    files, report = produce_report(plant_view(settings), out, {"job": "waterworks report"})
    print(f"compliance report: {files.html}\n  JSON: {files.json} (schema: {files.schema})")
    if args.pdf:
        from waterworks.governance.report.render import print_pdf

        print(f"  PDF: {print_pdf(files.html, settings.chromium)}")
    for key, value in report_summary(report).items():
        print(f"  {key.replace('_', ' ')}: {value}")
    print(f"  {report['impact_assessment']['conclusion']}")
    return 0


def _engine_config():
    """The plant's engine settings (models, detector, threshold): redact and scan analyze as the plant does."""
    from waterworks.assets.resources import PiiEngineResource

    from .settings import get_settings

    return PiiEngineResource.from_settings(get_settings()).engine_config()


def _cmd_redact(args: argparse.Namespace) -> int:
    from waterworks.governance.pii.redact import redact_file

    tally = redact_file(Path(args.input), Path(args.output), args.text_field or None, args.language,
                        config=_engine_config(), operator=args.operator)
    summary = tally.to_dict()
    print(f"redacted {summary['texts_with_pii']} of {summary['texts']} texts → {args.output}; findings by type: "
          f"{json.dumps(summary['by_type'], sort_keys=True)}")
    return 0


def _cmd_train_pii_detector(args: argparse.Namespace) -> int:
    from waterworks.governance.pii.detector_training import train
    from waterworks.models.recipes.configs import DetectorConfig

    from .settings import get_settings

    out = Path(args.out) if args.out else get_settings().home / "detectors" / "pii_detector"
    try:
        card = train(out, [Path(p) for p in args.train], [Path(p) for p in args.dev],
                     use_corpora=not args.only_user_data,
                     config=DetectorConfig(epochs=args.epochs, device=args.device))
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"train-pii-detector: {exc}")
        return 2
    print(f"detector written to {out} (threshold {card['threshold']}); use it with WATERWORKS_PII_DETECTOR={out}")
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from waterworks.governance.pii.redact import scan_file

    tally = scan_file(Path(args.input), args.language, config=_engine_config())
    print(json.dumps({"file": str(args.input), **tally.to_dict()}, indent=1, sort_keys=True))
    return 1 if tally.by_type else 0


def build_parser() -> argparse.ArgumentParser:
    from waterworks.assets.products import registered_products

    parser = argparse.ArgumentParser(prog="waterworks", description="Waterworks: an enterprise data-to-model plant.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo-estate", help="generate the synthetic demo estate with planted PII and ground truth")
    p.add_argument("--out", required=True, help="folder to write (created)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", type=int, default=1, help="multiplies every volume (1 ≈ 1 MB)")
    p.set_defaults(func=_cmd_demo_estate)

    p = sub.add_parser("run", help="materialize the plant through Dagster (new or changed files only)")
    p.add_argument("--full", action="store_true", help="re-ingest every landing file")
    p.add_argument("--ingest-only", action="store_true",
                   help="the source stage alone: ingest new or changed files and take the landing inventory")
    p.add_argument("--no-demo", dest="demo", action="store_false",
                   help="do not generate the demo estate into an empty landing folder")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("forget", help="erase a data subject everywhere (zones, landing, datasets, models), rebuild "
                       "and retrain; the erasure ledger and the compliance report record it (never the value)")
    given = p.add_mutually_exclusive_group(required=True)
    given.add_argument("--subject", help="the value (an ID, phone, e-mail or name); '-' reads it from stdin — "
                       "prefer that or --subject-file: a command line is visible to other users and shell history")
    given.add_argument("--subject-file", type=Path, help="a file whose first line is the value (deleted once read)")
    p.add_argument("--no-rebuild", action="store_true", help="erase only; the next plant run rebuilds and retrains")
    p.set_defaults(func=_cmd_forget)

    p = sub.add_parser("settings", help="print the effective settings (secrets masked)")
    p.set_defaults(func=_cmd_settings)

    p = sub.add_parser("ui", help="the Dagster UI with its daemon (schedules, sensors) on 127.0.0.1")
    p.set_defaults(func=_cmd_ui)

    p = sub.add_parser("mlflow-ui", help="the MLflow UI on the project's tracking store, on 127.0.0.1")
    p.set_defaults(func=_cmd_mlflow_ui)

    p = sub.add_parser("serve", help="serve a registered model by alias (default: the classifier's champion) on "
                       "127.0.0.1 through `mlflow models serve` (no environment creation)")
    p.add_argument("--model", default="intent_classifier", choices=[p.name for p in registered_products()])
    p.add_argument("--alias", default="champion")
    p.add_argument("--port", type=int, default=None, help="default: WATERWORKS_SERVE_PORT (5001)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("lineage", help="a registered model version back to its datasets, zones and landing files")
    p.add_argument("--model", required=True, help="NAME@ALIAS (e.g. waterworks-chat@champion) or NAME/VERSION")
    p.add_argument("--json", action="store_true", help="JSON instead of a tree")
    p.set_defaults(func=_cmd_lineage)

    p = sub.add_parser("query", help="SQL over the shareable zones through the DuckDB catalog (views: "
                       "sanitized_records, sanitized_documents, pii_ledger_*, <dataset>_<split>)")
    p.add_argument("sql", help='e.g. "SELECT source_id, count(*) FROM sanitized_documents GROUP BY 1"')
    p.add_argument("--format", choices=("tsv", "csv"), default="tsv")
    p.set_defaults(func=_cmd_query)

    p = sub.add_parser("report", help="write the compliance report (self-contained HTML with charts, JSON with "
                       "its schema) of the plant as it stands")
    p.add_argument("--out", default=None, help="folder to write report.html, report.json, schema.json into "
                   "(default: WATERWORKS_REPORTS_DIR/manual)")
    p.add_argument("--pdf", action="store_true", help="also print report.pdf with headless Chromium (optional)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("redact", help="redact PII in a JSONL, CSV or Parquet file (same format out)")
    p.add_argument("--in", dest="input", required=True, help="input file (.jsonl, .csv, .parquet)")
    p.add_argument("--out", dest="output", required=True, help="output file, same format as the input")
    p.add_argument("--text-field", action="append", metavar="NAME",
                   help="a free-text field to redact (repeatable); none named: every text column")
    p.add_argument("--language", choices=("auto", "en", "zh"), default="auto",
                   help="analysis language; auto: per text, by its share of CJK characters")
    p.add_argument("--operator", choices=("placeholder", "mask", "drop", "pseudonym"), default="placeholder",
                   help="what replaces a finding; pseudonym: consistent keyed surrogates (WATERWORKS_PSEUDONYM_KEY)")
    p.set_defaults(func=_cmd_redact)

    p = sub.add_parser("scan", help="residual PII scan: JSON summary by type (never values); exit 1 if any found")
    p.add_argument("--in", dest="input", required=True, help="input file (.jsonl, .csv, .parquet)")
    p.add_argument("--language", choices=("auto", "en", "zh"), default="auto")
    p.set_defaults(func=_cmd_scan)

    p = sub.add_parser("train-pii-detector", help="train the learned name/address detector (the shipped recipe) on "
                       "the bundled corpora and/or your own labelled JSONL")
    p.add_argument("--out", help="detector folder to write (default: WATERWORKS_HOME/detectors/pii_detector)")
    p.add_argument("--train", action="append", default=[], metavar="JSONL",
                   help='labelled training texts: {"text": …, "spans": [[start, end, "PER"], …]} (repeatable)')
    p.add_argument("--dev", action="append", default=[], metavar="JSONL",
                   help="labelled dev texts the decision threshold is picked on (repeatable)")
    p.add_argument("--only-user-data", action="store_true", help="train on --train files alone, not the corpora")
    p.add_argument("--epochs", type=float, default=4.0)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: CUDA with bf16 when present")
    p.set_defaults(func=_cmd_train_pii_detector)

    p = sub.add_parser("prepare-home", help="write DAGSTER_HOME/dagster.yaml for the profile and print its path")
    p.set_defaults(func=_cmd_prepare_home)
    return parser


def main(argv: list[str] | None = None) -> int:
    from waterworks.assets.lake import restrict_umask

    restrict_umask()  # personal data is written below: owner-only unless a zone says otherwise
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"waterworks {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
