"""``rag eval``: score the eval sets side by side and save the run. The command's options
are in ``rag/cli.py``; what it does is here, beside the runner and the report."""

from __future__ import annotations

from pathlib import Path

import typer

from rag import Settings

__all__ = ["run"]


def run(
    url: str | None,
    limit: int | None,
    kind: list[str] | None,
    id_: list[str] | None,
    set_: list[str] | None,
    retrieval_only: bool,
    qa: str | None,
    chat: bool,
    out: str,
    compare: tuple[str, str] | None,
    gate: str | None,
) -> None:
    """Run ``rag eval``; a bad choice raises ``ValueError``, a failed gate ``RuntimeError``."""

    from eval import report, runner
    from eval.sets import SEALED, SETS, EvalSet, load_set

    s = Settings()
    if compare:
        typer.echo(report.compare(s.resolve(Path(compare[0])), s.resolve(Path(compare[1]))))
        return
    unknown = [name for name in set_ or [] if name not in SETS]
    if unknown:
        raise ValueError(f"unknown eval set {unknown[0]!r}; choose from {', '.join(SETS)}")
    if chat:
        plan = [
            (
                EvalSet("chat", ()),
                runner.load_chat(s.resolve(Path(qa or "eval/chat.jsonl")), kind, limit),
            )
        ]
    elif qa:
        custom = EvalSet("custom", (s.resolve(Path(qa)),))
        plan = [(custom, load_set(custom, kind, limit))]
    else:
        plan = [(SETS[n], load_set(SETS[n], kind, limit)) for n in set_ or list(SETS)]
    if id_:
        if any(n in SEALED for n in set_ or []):
            raise ValueError("a sealed set runs whole: its items are never picked or shown")
        plan = [(e, qs) for e, qs in plan if e.name not in SEALED]  # ids name tuning items
        plan = [(e, [q for q in qs if q["id"] in id_]) for e, qs in plan]
        plan = [(e, qs) for e, qs in plan if qs]
        if not plan:
            raise ValueError(f"no question of the chosen sets has the id {id_[0]!r}")
    records: list[dict] = []
    if url:
        search, ask_fn, meta = runner.over_http(url, retrieval_only)
        for eval_set, questions in plan:
            if eval_set.corpus is not None:
                typer.echo(f"skipping {eval_set.name}: its corpus is not the server's")
                continue
            records += runner.run_eval(questions, search, ask_fn)
    else:
        backend = runner.InProcess(retrieval_only)
        for eval_set, questions in plan:
            search, ask_fn, texts = backend.for_corpus(eval_set.corpus)
            records += runner.run_eval(questions, search, ask_fn, texts=texts)
        meta = backend.meta
    meta["eval_set"] = "chat" if chat else ",".join(e.name for e, _ in plan)
    path, run = runner.save_run(records, meta, s.resolve(Path(out)), retrieval_only, chat)
    md = report.write_report(run, path)
    typer.echo(report.metric_table(run["metrics"], "by_set"))
    for line in report.sealed_summary(run["metrics"]):
        typer.echo(f"\n{line}")
    typer.echo(f"\nwrote {path} and {md.name}")
    if gate:
        problem = report.gate(s.resolve(Path(gate)), run)
        if problem:
            raise RuntimeError(problem)
        typer.echo("gate passed: hit@5 and section hit@3 within 2 points of the baseline")
