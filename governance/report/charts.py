"""The report's charts as inline SVG (matplotlib, Agg backend): no script, no network, printable, and text
kept as text so the page stays searchable. Each function takes a section of the report's facts and returns
one ``<svg>`` element (an empty string when there is nothing to draw)."""

from __future__ import annotations

import io

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "waterworks", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _svg(fig, title: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Title": title})
    _plt().close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def pii_type_by_source(pii: dict) -> str:
    """Heatmap: entity type × source, findings per cell."""
    rows = pii["by_type_source_language"]
    if not rows:
        return ""
    types = sorted({r["entity_type"] for r in rows})
    sources = sorted({r["source_id"] for r in rows})
    grid = [[0] * len(sources) for _ in types]
    for r in rows:
        grid[types.index(r["entity_type"])][sources.index(r["source_id"])] += r["count"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.1 * len(sources) + 2.5, 0.38 * len(types) + 1.6))
    ax.imshow(grid, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(sources)), sources, rotation=30, ha="right")
    ax.set_yticks(range(len(types)), types)
    top = max(max(row) for row in grid) or 1
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", color="white" if value > top / 2 else "black")
    ax.set_title("PII findings by type and source")
    return _svg(fig, "PII findings by type and source")


def pii_type_by_language(pii: dict) -> str:
    """Stacked bars: findings per entity type, split by language (``structured`` = tabular columns)."""
    rows = pii["by_type_source_language"]
    if not rows:
        return ""
    types = sorted({r["entity_type"] for r in rows})
    languages = sorted({r["language"] for r in rows})
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(types) + 1.4))
    left = [0] * len(types)
    for k, language in enumerate(languages):
        values = [sum(r["count"] for r in rows if r["entity_type"] == t and r["language"] == language) for t in types]
        ax.barh(types, values, left=left, color=COLORS[k % len(COLORS)], label=language)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.legend(title="language", fontsize=8, loc="lower right")
    ax.set_xlabel("findings")
    ax.set_title("PII findings by type and language")
    return _svg(fig, "PII findings by type and language")


def operators_applied(pii: dict) -> str:
    """Bars: findings replaced per operator and mode (free text / structured column)."""
    rows = pii["by_operator"]
    if not rows:
        return ""
    totals: dict[str, int] = {}
    for r in rows:
        key = f"{r['operator']} ({r['mode']})"
        totals[key] = totals.get(key, 0) + r["count"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(totals) + 1.2))
    labels = sorted(totals, key=totals.get, reverse=True)
    ax.barh(labels, [totals[k] for k in labels], color=COLORS[2])
    for i, k in enumerate(labels):
        ax.text(totals[k], i, f" {totals[k]}", va="center")
    ax.invert_yaxis()
    ax.set_xlabel("findings replaced")
    ax.set_title("Operators applied")
    return _svg(fig, "Operators applied")


def record_funnel(funnel: dict) -> str:
    """Rows from landing to datasets: read, quarantined, dropped, sanitized, and examples per dataset."""
    t = funnel["totals"]
    stages = [("rows read (raw)", t["raw_rows"], COLORS[0]),
              ("rows quarantined", t["quarantined_rows"], COLORS[3]),
              ("files quarantined", t["quarantined_files"] + t["unrouted_files"], COLORS[3]),
              ("rows dropped (purification)", t["dropped_rows"], COLORS[1]),
              ("rows purified", t["purified_rows"], COLORS[0]),
              ("rows sanitized", t["sanitized_rows"], COLORS[2])]
    stages += [(f"examples in {name}", n, COLORS[4]) for name, n in sorted(t["dataset_examples"].items())]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 0.4 * len(stages) + 1.2))
    labels = [s[0] for s in stages]
    ax.barh(labels, [s[1] for s in stages], color=[s[2] for s in stages])
    for i, (_, value, _) in enumerate(stages):
        ax.text(value, i, f" {value}", va="center")
    ax.invert_yaxis()
    ax.set_title("Record funnel: landing → datasets")
    return _svg(fig, "Record funnel")


def drop_and_quarantine_reasons(funnel: dict) -> str:
    reasons: dict[str, int] = {}
    for r in funnel["quarantine_reasons"]:
        key = _short(f"quarantine: {r['reason']}")
        reasons[key] = reasons.get(key, 0) + r["count"]
    for r in funnel["drop_reasons"]:
        key = _short(f"dropped: {r['reason']}")
        reasons[key] = reasons.get(key, 0) + r["count"]
    if not reasons:
        return ""
    labels = sorted(reasons, key=reasons.get, reverse=True)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(labels) + 1.2))
    ax.barh(labels, [reasons[k] for k in labels],
            color=[COLORS[3] if k.startswith("quarantine") else COLORS[1] for k in labels])
    ax.invert_yaxis()
    ax.set_xlabel("rows or files")
    ax.set_title("Why records left the funnel")
    return _svg(fig, "Drop and quarantine reasons")


def canary_exposure(canaries: list[dict]) -> str:
    """Exposure (bits) of each planted canary per generative model, against the threshold."""
    if not canaries:
        return ""
    plt = _plt()
    fig, axes = plt.subplots(1, len(canaries), figsize=(4.2 * len(canaries) + 1, 3.2), squeeze=False)
    for ax, model in zip(axes[0], canaries, strict=True):
        names = [f"{e['canary']}" for e in model["exposures"]]
        values = [e["exposure_bits"] for e in model["exposures"]]
        ax.bar(names, values, color=[COLORS[3] if v > model["threshold_bits"] else COLORS[0] for v in values])
        ax.axhline(model["threshold_bits"], color=COLORS[3], linestyle="--", linewidth=1)
        ax.text(len(names) - 0.5, model["threshold_bits"], "threshold", ha="right", va="bottom", color=COLORS[3])
        ax.set_ylim(0, max(values + [model["threshold_bits"]]) * 1.15)
        ax.tick_params(axis="x", rotation=45)
        ax.set_ylabel("exposure (bits)")
        ax.set_title(model["model"])
    fig.suptitle("Canary exposure")
    return _svg(fig, "Canary exposure")


def policy_matrix(models: list[dict], targets: list[str]) -> str:
    """Registered versions × deployment targets: allowed (green), refused (red), not requested (grey)."""
    if not models or not targets:
        return ""
    plt = _plt()
    labels = [f"{m['registered_name']} v{m['version']} ({m['deployment']['classification']})" for m in models]
    fig, ax = plt.subplots(figsize=(1.5 * len(targets) + 3.5, 0.5 * len(models) + 1.4))
    palette = {"allowed": "#2ca02c", "refused": "#d62728", "not requested": "#dddddd",
               "allowed, not requested": "#a6d8a6"}
    for i, m in enumerate(models):
        d = m["deployment"]
        for j, target in enumerate(targets):
            requested = target in d["requested_targets"]
            allowed = target in d["allowed_targets"]
            state = ("allowed" if allowed else "refused") if requested else (
                "allowed, not requested" if allowed else "not requested")
            ax.add_patch(plt.Rectangle((j - 0.45, i - 0.4), 0.9, 0.8, color=palette[state]))
            ax.text(j, i, state, ha="center", va="center", fontsize=7)
    ax.set_xlim(-0.5, len(targets) - 0.5)
    ax.set_ylim(len(models) - 0.5, -0.5)
    ax.set_xticks(range(len(targets)), targets)
    ax.set_yticks(range(len(models)), labels)
    ax.set_title("Deployment policy decisions")
    return _svg(fig, "Deployment policy decisions")
