"""Sanitation quality on our dev splits, ours and Presidio's in one run.

    .venv/bin/python bench/sanitation_quality.py [--limit N] [--json OUT]

Per corpus — CoNLL-2003 valid (English newswire), Resume NER dev (Chinese résumés), the CLUENER slice held out
from training (Chinese news), synthetic English and Chinese text from the held-out templates, a pattern set
(cards, phones incl. Taiwan landlines, resident/national IDs, e-mails, IBANs, IPs in carrier text), and the
demo estate's tickets with their manifest — it prints:

- recall by type: a labelled span is found when every non-space character is covered by findings of a
  personal type (a half-redacted name still leaks);
- over-redaction: the share of texts holding no personal data (no PER/ADDR label, no planted value) that
  redaction would change;
- the same for Presidio 2.2 out of the box (AnalyzerEngine, spaCy en_core_web_sm, its default English
  recognizers; English corpora only: it has no Chinese), and for the residual check's name detector alone.

Figures are dev figures: none of these splits is trained on (CLUENER's slice and the synthetic templates are
held out by construction; see governance/pii/detector_corpus.py). No public test split is read.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from waterworks.governance.pii import detector_corpus as corpus  # noqa: E402
from waterworks.governance.pii.batch import NOT_PERSONAL, BatchAnalyzer, BatchOptions  # noqa: E402
from waterworks.governance.pii.detector_eval import covered  # noqa: E402
from waterworks.governance.pii.engine import SPACY_ENGLISH_NER, EngineConfig  # noqa: E402
from waterworks.governance.pii.residual_names import NameScanConfig, residual_names  # noqa: E402
from waterworks.pipelines.settings import project_root  # noqa: E402

LABEL_TYPES = {"PER": "PERSON", "ADDR": "ADDRESS"}  # gold label → the finding type it is scored as


def pattern_examples(n: int, seed: int) -> list[corpus.Example]:
    """Identifiers in carrier text, labelled with the type our engine reports."""
    from faker import Faker

    rng = random.Random(seed)
    cn, tw, us = Faker("zh_CN"), Faker("zh_TW"), Faker("en_US")
    gb, de = Faker("en_GB"), Faker("de_DE")
    for i, fake in enumerate((cn, tw, us, gb, de)):
        fake.seed_instance(seed + i)
    makers = [
        ("BANK_CARD", lambda: us.credit_card_number(), ("card {}", "卡号{}", "Please charge {} today")),
        ("PHONE_NUMBER", lambda: cn.phone_number(), ("手机{}", "call me on {}", "电话：{}")),
        ("PHONE_NUMBER", lambda: tw.phone_number(), ("電話 {}", "請撥{}聯絡", "tel {}")),
        ("PHONE_NUMBER", lambda: f"0{rng.choice('2345678')}-{rng.randint(1000000, 9999999)}", ("市話{}", "辦公室 {}")),
        ("PHONE_NUMBER", lambda: f"0{rng.choice('2345678')} {rng.randint(1000000, 9999999)}", ("電話：{}", "office {}")),
        ("PHONE_NUMBER", lambda: gb.phone_number(), ("ring {} after 5", "Phone: {}")),
        ("CN_RESIDENT_ID", lambda: cn.ssn(), ("身份证号{}", "ID {} on file", "证件：{}")),
        ("TW_NATIONAL_ID", lambda: tw.ssn(), ("身分證字號 {}", "national id {}")),
        ("EMAIL_ADDRESS", lambda: de.email(), ("mail {} please", "邮箱：{}")),
        ("IBAN_CODE", lambda: de.iban(), ("IBAN {}", "transfer to {} by Friday")),
        ("IBAN_CODE", lambda: gb.iban(), ("account {}",)),
        ("IP_ADDRESS", lambda: us.ipv4_public(), ("login from {}", "来自{}的登录")),
    ]
    out = []
    for _ in range(n):
        entity, make, templates = rng.choice(makers)
        template, value = rng.choice(templates), make()
        start = template.index("{}")
        out.append(corpus.Example(template.format(value), [(start, start + len(value), entity)], "patterns"))
    return out


def estate_examples() -> list[corpus.Example]:
    """The demo estate's distinct ticket bodies with their planted values (bench/sanitation.py's loader)."""
    from bench.sanitation import load_texts

    texts, planted = load_texts(project_root() / ".bench", 1)
    label = {"PERSON": "PER", "ADDRESS": "ADDR"}
    return [corpus.Example(t, [(s, e, label.get(kind, kind)) for kind, s, e, _ in spans], "estate")
            for t, spans in zip(texts, planted, strict=True)]


def score(examples: list[corpus.Example], findings: list[list[tuple[int, int, str]]]) -> dict:
    """Recall by gold type, and over-redaction over texts without any personal label."""
    total, found = Counter(), Counter()
    clean = changed = 0
    for example, spans in zip(examples, findings, strict=True):
        personal = [(s, e) for s, e, t in spans if t not in NOT_PERSONAL]
        gold = [(s, e, lab) for s, e, lab in example.spans if lab not in ("ORG", "LOC")]
        if not gold:
            clean += 1
            changed += bool(personal)
        for s, e, lab in gold:
            kind = LABEL_TYPES.get(lab, lab)
            total[kind] += 1
            found[kind] += covered(example.text, s, e, personal)
    return {"recall": {k: round(found[k] / total[k], 3) for k in sorted(total)}, "counts": dict(total),
            "over_redaction": round(changed / clean, 3) if clean else None, "clean_texts": clean}


def ours(examples: list[corpus.Example], config: EngineConfig) -> list[list[tuple[int, int, str]]]:
    analyzer = BatchAnalyzer(config, BatchOptions(batch_size=256, n_process=1))
    return [[(r.start, r.end, r.entity_type) for r in results] for results in analyzer.analyze([e.text for e in examples])]


def presidio_out_of_the_box(examples: list[corpus.Example]) -> list[list[tuple[int, int, str]]]:
    from waterworks.governance.pii.presidio import AnalyzerEngine, NlpEngineProvider

    engine = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [
        {"lang_code": "en", "model_name": SPACY_ENGLISH_NER}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    return [[(r.start, r.end, r.entity_type) for r in analyzer.analyze(e.text, language="en")] for e in examples]


def residual_only(examples: list[corpus.Example]) -> dict:
    """The residual check's name detector alone: the share of labelled persons in texts it flags."""
    flagged = residual_names([e.text for e in examples], NameScanConfig())
    total = sum(1 for e in examples for *_, lab in e.spans if lab == "PER")
    hit = sum(sum(1 for *_, lab in e.spans if lab == "PER") for e, f in zip(examples, flagged, strict=True)
              if "PERSON" in f)
    return {"texts_with_persons_flagged": round(hit / total, 3) if total else None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="at most N texts per corpus (0: all)")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args()
    dev = corpus.dev_examples()
    corpora = {**dev, "patterns": pattern_examples(600, 5), "demo_estate": estate_examples()}
    english = {"conll_valid", "synthetic_en_dev"}
    config = EngineConfig(cache_dir=project_root() / ".bench" / "cache")
    figures = {}
    for name, examples in corpora.items():
        if args.limit:
            examples = examples[:args.limit]
        row = {"texts": len(examples), "ours": score(examples, ours(examples, config))}
        if not args.no_presidio and (name in english or name == "patterns"):
            row["presidio"] = score(examples, presidio_out_of_the_box(examples))
        if any(lab == "PER" for e in examples for *_, lab in e.spans):
            row["residual_detector"] = residual_only(examples)
        figures[name] = row
        print(f"\n{name} ({len(examples)} texts)")
        for who in ("ours", "presidio"):
            if who in row:
                r = row[who]
                print(f"  {who:<9} recall {json.dumps(r['recall'], ensure_ascii=False)}  "
                      f"over-redaction {r['over_redaction']} of {r['clean_texts']} clean texts")
        if "residual_detector" in row:
            print(f"  residual check alone: {row['residual_detector']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
