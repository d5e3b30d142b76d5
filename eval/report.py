"""Turning a saved run into something a person reads: a Markdown report with the metric
table and worst failures, a PNG plot, and deltas between two runs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from eval.metrics import answer_terms, failure_stage, is_right, summarize
from eval.sets import SEALED

__all__ = ["compare", "flips", "gate", "metric_table", "sealed_summary", "write_report"]

_ORDER = [
    "n",
    "hit@1",
    "hit@5",
    "mrr",
    "section_hit@1",
    "section_hit@3",
    "section_hit@5",
    "section_mrr",
    "correct",
    "term_share",
    "citation_precision",
    "citation_recall",
    "refused_unanswerable",
    "refused_answerable",
    "faithfulness",
    "lost_in_retrieval",
    "lost_in_reading",
    "lost_in_grounding",
    "p50_total_s",
    "p95_total_s",
    "p50_ttft_s",
    "p95_ttft_s",
    "mean_prompt_tokens",
    "mean_answer_tokens",
    "mean_generations",
    "max_generations",
]
# Shares (0..1) print with three decimals; the count, seconds and token means don't.
_PCT = set(_ORDER[1 : _ORDER.index("lost_in_grounding") + 1])


def _fmt(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name in ("n", "max_generations"):
        return str(value)
    return f"{value:.3f}" if name in _PCT else f"{value:.2f}"


def sealed_summary(metrics: dict[str, Any]) -> list[str]:
    """The sealed sets' aggregate lines: correctness by kind, where the wrong answers
    lost their key terms (counts), and the tuning - sealed gap. Never an item."""
    sealed = metrics.get("sealed")
    if not sealed:
        return []
    by_kind = metrics.get("sealed_by_kind", {})
    scores = {
        k: b.get("refused_unanswerable" if k == "unanswerable" else "correct")
        for k, b in by_kind.items()
    }
    if "stages" not in sealed:  # a retrieval-only run: its metrics are in the table
        return []
    kinds = ", ".join(f"{k} {_fmt('correct', v)}" for k, v in scores.items())
    stages = ", ".join(f"{k} {n}" for k, n in sealed["stages"].items())
    lines = [
        f"sealed (n={sealed['n']}): correct {_fmt('correct', sealed.get('correct'))}, "
        f"by kind (unanswerable: refused): {kinds}",
        f"sealed answerable questions by stage: {stages}",
    ]
    if "tuning_sealed_gap" in metrics:
        lines.append(f"tuning - sealed gap in correctness: {metrics['tuning_sealed_gap']:+.3f}")
    return lines


def metric_table(metrics: dict[str, Any], by: str = "by_kind") -> str:
    """Markdown table: one row per metric, columns overall then each kind (or each set,
    with ``by="by_set"``)."""
    blocks = {"overall": metrics["overall"], **metrics.get(by, {})}
    names = [n for n in _ORDER if any(n in b for b in blocks.values())]
    lines = [
        "| metric | " + " | ".join(blocks) + " |",
        "| --- |" + " ---: |" * len(blocks),
    ]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(_fmt(n, b.get(n)) for b in blocks.values()) + " |")
    return "\n".join(lines)


def _failures(records: list[dict[str, Any]], limit: int = 12) -> list[str]:
    """The worst answers of the tuning sets. A sealed set's are never listed (nor
    saved): whoever changes the pipeline must not see them."""
    scored = []
    for r in records:
        if "answer" not in r or r.get("set") in SEALED:
            continue
        if r["kind"] == "unanswerable":
            if not r["refused"]:
                scored.append((-1.0, r, "answered an unanswerable question"))
        else:
            share = 0.0 if r["refused"] else answer_terms(r["answer"], r["must_include"])
            if share < 1.0:
                why = "refused" if r["refused"] else f"{share:.0%} of key terms"
                scored.append((share, r, why))
    scored.sort(key=lambda t: t[0])
    out = []
    for _, r, why in scored[:limit]:
        cited = ", ".join(sorted({c["source"] for c in r.get("citations", [])})) or "none"
        stage = failure_stage(r)
        out.append(
            f"- **{r['id']}** ({r['kind']}, {why}{', lost in ' + stage if stage else ''}): "
            f"{r['question']}\n"
            f"  - expected: {r['expected']}\n"
            f"  - got: {r['answer']}\n"
            f"  - cited: {cited}"
        )
    return out


def _plot(run: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [r for r in run["records"] if r.get("timings")]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.hist([r["timings"]["total_s"] for r in records], bins=20, color="#4477aa", label="total")
    ax1.hist(
        [r["timings"]["ttft_s"] for r in records],
        bins=20,
        color="#ee6677",
        alpha=0.7,
        label="time to first token",
    )
    ax1.set_xlabel("seconds")
    ax1.set_ylabel("questions")
    ax1.set_title("Latency per question")
    ax1.legend()
    kinds = run["metrics"]["by_kind"]
    names = [k for k in kinds if k != "unanswerable"]
    ax2.bar(names, [kinds[k].get("correct") or 0 for k in names], color="#228833")
    if "unanswerable" in kinds:
        ax2.bar(
            ["unanswerable\n(refused)"],
            [kinds["unanswerable"].get("refused_unanswerable") or 0],
            color="#ccbb44",
        )
    ax2.set_ylim(0, 1)
    ax2.set_title("Correct answers by kind")
    ax2.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(run: dict[str, Any], json_path: Path) -> Path:
    """Write ``<run>.md`` (and ``<run>.png`` for runs with answers) beside the JSON."""
    meta = run["meta"]
    md = [
        f"# Eval run {json_path.stem}",
        "",
        f"- date: {meta['date']}, commit: {meta['git_sha']}, questions: {meta['n']}",
        "- " + ", ".join(f"{k}: {v}" for k, v in meta.items() if k not in {"date", "git_sha", "n"}),
        "",
        "## Metrics by set",
        "",
        metric_table(run["metrics"], "by_set"),
        "",
        *sealed_summary(run["metrics"]),
        "",
        "## Metrics by kind",
        "",
        metric_table(run["metrics"]),
        "",
    ]
    if not meta.get("retrieval_only"):
        png = json_path.with_suffix(".png")
        _plot(run, png)
        md += [
            "## Worst failures",
            "",
            *(_failures(run["records"]) or ["none"]),
            "",
            f"![latency and correctness]({png.name})",
            "",
        ]
    path = json_path.with_suffix(".md")
    path.write_text("\n".join(md), encoding="utf-8")
    return path


def _key(record: dict[str, Any]) -> tuple[str, str]:
    """A question's identity across runs: its set and id."""
    return record.get("set", ""), record["id"]


def flips(a_records: list[dict[str, Any]], b_records: list[dict[str, Any]]) -> list[str]:
    """The questions of both runs whose verdict (``is_right``) differs, gains and losses:
    listed for the tuning sets, only counted for the sealed ones (``SEALED``), whose
    items nobody reads while changing the pipeline."""
    before = {_key(r): is_right(r) for r in a_records}
    counts: Counter[tuple[str, str]] = Counter()
    lines = []
    for r in b_records:
        key = _key(r)
        if key not in before or before[key] == is_right(r):
            continue
        change = "gain" if is_right(r) else "loss"
        counts[key[0], change] += 1
        if key[0] not in SEALED:
            lines.append(f"{change:<6}{key[0]:<8}{r['id']:<12}{r['question']}")
    for (name, change), n in sorted(counts.items()):
        word = change if n == 1 else {"gain": "gains", "loss": "losses"}[change]
        lines.append(f"{name}: {n} {word}")
    return lines or ["no verdict changed"]


def compare(a_path: Path, b_path: Path) -> str:
    """Deltas B - A for every metric present in both runs, overall, per set and per
    kind, then the questions whose verdict changed (``flips``).

    Only questions both runs answered are compared: a run of a few ids (``rag eval
    --id``, re-running what a change touches) set against a full run would otherwise
    compare different questions, and a subset chosen among the failures looks like a
    large gain. When the two runs' questions differ, the metrics are computed again on
    the questions they share, and the first line says so."""
    a_run = json.loads(a_path.read_text())
    b_run = json.loads(b_path.read_text())
    a, b = a_run["metrics"], b_run["metrics"]
    lines = []
    a_keys = {_key(r) for r in a_run["records"]}
    b_keys = {_key(r) for r in b_run["records"]}
    if a_keys != b_keys:
        both = a_keys & b_keys
        lines.append(
            f"A ran {len(a_keys)} questions, B {len(b_keys)}: metrics below are over the "
            f"{len(both)} both ran"
        )
        only = bool(a_run["meta"].get("retrieval_only") or b_run["meta"].get("retrieval_only"))
        a = summarize([r for r in a_run["records"] if _key(r) in both], retrieval_only=only)
        b = summarize([r for r in b_run["records"] if _key(r) in both], retrieval_only=only)
    lines.append(f"{'scope':<14}{'metric':<22}{'A':>9}{'B':>9}{'B-A':>9}")
    scopes = (
        [("overall", a["overall"], b["overall"])]
        + [
            (k, a["by_set"][k], b["by_set"][k])
            for k in a.get("by_set", {})
            if k in b.get("by_set", {})
        ]
        + [(k, a["by_kind"][k], b["by_kind"][k]) for k in a["by_kind"] if k in b["by_kind"]]
    )
    for scope, ma, mb in scopes:
        for n in _ORDER:
            va, vb = ma.get(n), mb.get(n)
            if n == "n" or va is None or vb is None:
                continue
            lines.append(f"{scope:<14}{n:<22}{va:>9.3f}{vb:>9.3f}{vb - va:>+9.3f}")
    if not a_run["meta"].get("retrieval_only") and not b_run["meta"].get("retrieval_only"):
        lines += ["", *flips(a_run["records"], b_run["records"])]
    return "\n".join(lines)


def gate(baseline: Path, current: dict[str, Any], tolerance: float = 0.02) -> str | None:
    """An error message when hit@5 or section hit@3 fell more than ``tolerance`` below
    the baseline, per eval set when both runs have sets, else overall."""
    base = json.loads(baseline.read_text())["metrics"]
    now = current["metrics"]
    pairs = [
        (s, base["by_set"][s], m)
        for s, m in now.get("by_set", {}).items()
        if s in base.get("by_set", {})
    ]
    if not pairs:
        pairs = [("overall", base["overall"], now["overall"])]
    problems = []
    for scope, b, m in pairs:
        for metric in ("hit@5", "section_hit@3"):
            if b.get(metric) is None or m.get(metric) is None:
                continue
            if m[metric] < b[metric] - tolerance:
                problems.append(
                    f"{scope} {metric} {m[metric]:.3f} is more than {tolerance:.2f} below "
                    f"the baseline {b[metric]:.3f}"
                )
    return "; ".join(problems) or None
