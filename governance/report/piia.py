"""The personal-information impact assessment section of the compliance report: the plant's facts mapped to
PIPL (Art. 28 sensitive personal information, Art. 47 deletion, Art. 51 protective measures, Art. 55–56 impact
assessment) and GDPR (Art. 5 principles, 17 erasure, 25 by design and by default, 30 records of processing,
32 security, 35 DPIA).

Each article gets what it requires (paraphrased), what the plant does about it, the evidence in this report
(section anchors and counts) and a status computed from the facts: ``addressed`` or ``attention`` (with why).
This is the engineering record an assessor works from, not legal advice."""

from __future__ import annotations

# PIPL Art. 28 categories of sensitive personal information, by the entity types our detectors report.
SENSITIVE_TYPES = {
    "CN_RESIDENT_ID": "specific identity", "TW_NATIONAL_ID": "specific identity", "HK_ID": "specific identity",
    "PASSPORT": "specific identity", "US_PASSPORT": "specific identity", "US_SSN": "specific identity",
    "US_DRIVER_LICENSE": "specific identity", "UK_NHS": "medical and health", "MEDICAL_LICENSE": "medical and health",
    "BANK_CARD": "financial account", "CREDIT_CARD": "financial account", "IBAN_CODE": "financial account",
    "US_BANK_NUMBER": "financial account", "CRYPTO": "financial account",
}
ADDRESSED, ATTENTION = "addressed", "attention"


def sensitive_findings(pii: dict) -> list[dict]:
    by_source: dict[str, set] = {}
    for row in pii["by_type_source_language"]:
        if row["entity_type"] in SENSITIVE_TYPES:
            by_source.setdefault(row["entity_type"], set()).add(row["source_id"])
    return [{"entity_type": t, "category": SENSITIVE_TYPES[t], "count": n, "sources": sorted(by_source.get(t, ()))}
            for t, n in sorted(pii["by_type"].items()) if t in SENSITIVE_TYPES]


def _status(problems: list[str]) -> dict:
    return {"status": ATTENTION if problems else ADDRESSED, "problems": problems}


def impact_assessment(facts: dict) -> dict:
    pii, funnel, datasets = facts["pii"], facts["funnel"], facts["datasets"]
    sensitive = sensitive_findings(pii)
    n_sensitive = sum(s["count"] for s in sensitive)
    residual_dirty = [f"{d['name']}@{d['version']}" for d in datasets if not d["residual"]["passed"]]
    canaries_failed = [c["model"] for c in facts["canaries"] if not c["passed"]]
    unbased = [s["id"] for s in facts["sources"] if not s["legal_basis"].strip()]
    refused_training = [d["training"] for d in facts["policy"]["training"] if not d["passed"]]
    refused_deploy = [f"{m['registered_name']} v{m['version']}" for m in facts["models"]
                      if not m["deployment"]["passed"]]
    deployed_refused = [f"{b['registered_model']} v{b['version']} → {b['target']}" for b in facts["bundles"]
                        if b["target"] not in b["allowed_targets"]]
    residual_problems = [f"residual PII in {d}" for d in residual_dirty]
    canary_problems = [f"canaries extractable from {m}" for m in canaries_failed]
    canary_problems += [f"no canary evaluated for {c['model']}" for c in facts["canaries"] if not c.get("planted")]
    basis_problems = [f"source {s} has no legal basis" for s in unbased]
    operators = sorted({r["operator"] for r in pii["by_operator"]})
    classes = sorted({s["classification"] for s in facts["sources"]})
    targets = sorted({b["target"] for b in facts["bundles"]})
    examples = sum(funnel["totals"]["dataset_examples"].values())
    controls = facts["controls"]
    open_private = [f"{z['zone']}: {z['open']} of {z['checked']} entries readable by others"
                    for z in controls["zones"] if z["private"] and z["open"]]
    open_shared = [f"{z['zone']}: {z['open']} world-readable entries" for z in controls["zones"]
                   if not z["private"] and z["open"]]
    access_problems = open_private + open_shared
    if controls["profile"] == "production" and not controls["mlflow_auth"]:
        access_problems.append("the production MLflow server runs without authentication")
    if controls["pseudonym_key"] == "none":
        access_problems.append("no pseudonym key: identifier columns cannot be pseudonymized")
    unrecorded = [f"{c['registered_name']} v{c['version']}" for c in controls["champions"] if not c["recorded"]]
    access_problems += [f"champion {c} was not promoted by the plant (no promotion record)" for c in unrecorded]
    checked = sum(z["checked"] for z in controls["zones"] if z["private"])
    access_text = (f"private zones: {checked} entries checked, "
                   + ("none readable by others" if not open_private else "; ".join(open_private))
                   + f"; shareable zones: {'; '.join(open_shared) or 'none world-readable'}; "
                   f"MLflow server authentication {'on' if controls['mlflow_auth'] else 'off'} "
                   f"({controls['profile']} profile); pseudonym key: {controls['pseudonym_key']}; "
                   f"analysts' catalog: {controls['query_sandbox']}, shows {', '.join(controls['catalog_classifications'])}; "
                   f"champions with a promotion record: {len(controls['champions']) - len(unrecorded)} of "
                   f"{len(controls['champions'])}")
    residual_text = (f"residual rescan of {len(datasets)} dataset version(s): "
                     + (f"findings in {', '.join(residual_dirty)}" if residual_dirty else "no finding"))
    canary_text = ("canary exposure: " + "; ".join(f"{c['model']} max {c['max_exposure_bits']:.2f} bits "
                                                    f"(threshold {c['threshold_bits']:.1f})" for c in facts["canaries"])
                   if facts["canaries"] else "no generative model evaluated for canary exposure")
    erasure = facts["erasure"]
    open_requests = [r["request_id"] for r in erasure["requests"] if r["status"] != "completed"]
    erasure_problems = [f"erasure {r} not completed" for r in open_requests]
    empty_aliases = [f"{name} has no champion since {r['request_id']}" for r in erasure["requests"]
                     for name, champion in (r.get("champions_after") or {}).items() if champion is None]
    erasure_text = (f"{len(erasure['requests'])} erasure request(s), {len(open_requests)} open; "
                    f"{erasure['rows_removed']} rows removed, {erasure['datasets_deleted']} dataset version(s) "
                    f"deleted, {erasure['models_retired']} model(s) retired; "
                    + ("; ".join(empty_aliases) if empty_aliases else "every retired champion replaced by a "
                       "retrained one") + " (#erasure)")
    retention_text = (f"{len(erasure['retention_sweeps'])} retention sweep(s), last "
                      f"{erasure['retention_sweeps'][-1]['requested_at'] if erasure['retention_sweeps'] else 'never'}"
                      f"; {erasure['files_expired']} file(s) expired (#erasure)")
    articles = [
        {"framework": "PIPL", "article": "Art. 28", "title": "Sensitive personal information",
         "requirement": "Sensitive personal information (specific identity, financial accounts, medical health, "
                        "whereabouts, biometrics, religion, minors) is processed only for a specific purpose, with "
                        "sufficient necessity and strict protective measures.",
         "measures": "Detected by type in the sanitation stage and replaced by operators before any dataset is "
                     "built; training reads only the sanitized zone; an independent residual detector rescans "
                     "every dataset version and blocks training on any finding.",
         "evidence": f"{n_sensitive} sensitive findings of {len(sensitive)} type(s) redacted "
                     f"({', '.join(s['entity_type'] for s in sensitive) or 'none'}); {residual_text} (#pii, "
                     "#residual)",
         **_status(residual_problems)},
        {"framework": "PIPL", "article": "Art. 51", "title": "Protective measures",
         "requirement": "Internal management rules, classified management of personal information, encryption or "
                        "de-identification, access control, and security measures proportionate to the risk.",
         "measures": f"Every source is classified ({', '.join(classes)}) with an owner, legal basis and retention; "
                     f"de-identification by operators {', '.join(operators) or 'none'}; personal data stays in the "
                     "private zones (landing, raw, quarantine, purified); a policy file decides which "
                     "classifications may feed which training and go to which deployment target, enforced by "
                     "blocking checks.",
         "evidence": f"{len(facts['sources'])} sources classified (#sources); {pii['total_findings']} findings "
                     f"de-identified (#operators); training decisions {len(facts['policy']['training'])} "
                     "(#policy)",
         **_status(basis_problems)},
        {"framework": "PIPL", "article": "Art. 55", "title": "When an impact assessment is required",
         "requirement": "A personal-information impact assessment is done in advance when processing sensitive "
                        "personal information, using it for automated decision-making, or providing it to others.",
         "measures": "This report is produced for every plant run (asset `compliance_report`) and on demand "
                     "(`waterworks report --out DIR`), before models are promoted and distributed.",
         "evidence": f"triggered: {'sensitive personal information processed' if n_sensitive else 'no sensitive type'}"
                     f"; models built for automated use: {len({m['registered_name'] for m in facts['models']})}; "
                     f"deployment targets with bundles: {', '.join(targets) or 'none'}",
         **_status([])},
        {"framework": "PIPL", "article": "Art. 56", "title": "Content of the impact assessment",
         "requirement": "Whether purpose and method are lawful, legitimate and necessary; the impact on individuals' "
                        "rights and the security risks; whether the protective measures are lawful, effective and "
                        "proportionate. Reports and records are kept at least three years.",
         "measures": "Purpose and legal basis per source; risk measured, not assumed: residual rescans, canary "
                     "exposure of the generative models, promotion gates; reports are written per run and are "
                     "meant to be archived with the run (retention ≥ 3 years is the operator's to configure).",
         "evidence": f"{residual_text}; {canary_text}; deployment decisions: {len(facts['models'])} (#models)",
         **_status(canary_problems + residual_problems)},
        {"framework": "PIPL", "article": "Art. 47", "title": "Deletion of personal information",
         "requirement": "Personal information is deleted when the purpose is achieved, the retention period has "
                        "expired, or the individual withdraws consent or asks for it; where deletion is technically "
                        "hard, processing other than storage and security stops.",
         "measures": "`waterworks forget` (job forget_job): the person found by keyed hashes of their identifiers "
                     "(subject index) and a scan for their values, removed from landing (edited in its format, "
                     "re-deliveries dropped by tombstones), raw, quarantine, purified, sanitized, every dataset "
                     "version that held them; models trained on them retired and retrained; a proof scan of the "
                     "whole home. Retention: retention_sweep deletes data past each source's retention_days.",
         "evidence": f"{erasure_text}; {retention_text}",
         **_status(erasure_problems)},
        {"framework": "GDPR", "article": "Art. 17", "title": "Right to erasure",
         "requirement": "The data subject can obtain erasure without undue delay; the controller erases data that "
                        "is no longer necessary and informs recipients of the erasure.",
         "measures": "As for PIPL Art. 47; models that saw the person lose their aliases and bundles (the "
                     "recipients' copies), so a deployment can no longer pull them; the erasure ledger records "
                     "each request by keyed hash with counts, never the value.",
         "evidence": erasure_text,
         **_status(erasure_problems)},
        {"framework": "GDPR", "article": "Art. 5", "title": "Principles relating to processing",
         "requirement": "Lawfulness, fairness and transparency; purpose limitation; data minimisation; accuracy; "
                        "storage limitation; integrity and confidentiality; accountability.",
         "measures": "A legal basis and retention period per source; only de-identified text reaches datasets "
                     "(minimisation); duplicates and broken input dropped or quarantined with reasons (accuracy); "
                     "every count in this report is reproducible from the lake (accountability).",
         "evidence": f"{funnel['totals']['raw_rows']} rows read, {funnel['totals']['dropped_rows']} dropped and "
                     f"{funnel['totals']['quarantined_rows']} rows + {funnel['totals']['quarantined_files']} files "
                     f"quarantined with reasons, {examples} dataset examples (#funnel); storage limitation: "
                     f"{retention_text}; integrity and confidentiality: {access_text} (#controls)",
         **_status(basis_problems + access_problems)},
        {"framework": "GDPR", "article": "Art. 25", "title": "Data protection by design and by default",
         "requirement": "Appropriate technical measures, such as pseudonymisation, designed in; by default only "
                        "the personal data necessary for each purpose is processed.",
         "measures": "Sanitation is a stage of the plant, not an option: datasets can only be built from the "
                     "sanitized zone, training only from datasets, deployment only from the registry; blocking "
                     "checks stop the line on residual PII, canary exposure and policy refusals.",
         "evidence": f"{residual_text}; refused trainings: {', '.join(refused_training) or 'none'}; refused "
                     f"deployments: {', '.join(refused_deploy) or 'none'} (#policy)",
         **_status(residual_problems)},
        {"framework": "GDPR", "article": "Art. 30", "title": "Records of processing activities",
         "requirement": "Purposes, categories of data subjects and personal data, recipients, transfers, time "
                        "limits for erasure, and a description of the security measures.",
         "measures": "The sources section is the record: per source its description, owner, classification, "
                     "legal basis and retention; categories of personal data from the findings; recipients are "
                     "the deployment targets of the models, with their bundles.",
         "evidence": f"{len(facts['sources'])} sources (#sources), {len(pii['by_type'])} categories of personal "
                     f"data (#pii), {len(facts['bundles'])} bundles (#bundles)",
         **_status([])},
        {"framework": "GDPR", "article": "Art. 32", "title": "Security of processing",
         "requirement": "Pseudonymisation and encryption; confidentiality and integrity; regular testing of the "
                        "effectiveness of the measures.",
         "measures": "Keyed pseudonyms or placeholders replace findings and identifier columns; private zones "
                     "owner-only; landing links refused; the analysts' catalog is a sandboxed read-only query of "
                     "the shareable rows; MLflow's basic-auth app in production; content hashes (sha256) of every "
                     "landing file, registered model and bundle file, checked before serving; effectiveness tested "
                     "on every run: residual rescans, canary exposure.",
         "evidence": f"{access_text}; {residual_text}; {canary_text} (#controls, #residual, #canaries)",
         **_status(residual_problems + canary_problems + access_problems)},
        {"framework": "GDPR", "article": "Art. 35", "title": "Data protection impact assessment",
         "requirement": "A systematic description of the processing and its purposes, necessity and "
                        "proportionality, the risks to data subjects, and the measures addressing them.",
         "measures": "This section with the report it belongs to: processing described stage by stage, risks "
                     "measured, measures and policy decisions recorded per model version.",
         "evidence": "sections #sources, #funnel, #pii, #residual, #canaries, #models, #policy",
         **_status([f"a bundle outside its allowed targets: {b}" for b in deployed_refused])},
    ]
    attention = [a for a in articles if a["status"] == ATTENTION]
    return {
        "sensitive_personal_information": sensitive,
        "sensitive_findings": n_sensitive,
        "articles": articles,
        "conclusion": ("Every article addressed by the plant's measures on this run."
                       if not attention else
                       f"{len(attention)} article(s) need attention: "
                       + "; ".join(f"{a['framework']} {a['article']}: {', '.join(a['problems'])}" for a in attention)),
    }
