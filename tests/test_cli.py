"""The `rag` command, through typer's CliRunner, on the session's real index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app


@pytest.fixture
def cli_env(settings, monkeypatch) -> CliRunner:
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_path))
    return CliRunner()


def test_search_prints_ranked_passages(cli_env):
    result = cli_env.invoke(app, ["search", "Riptide binarized", "-k", "2"])
    assert result.exit_code == 0, result.output
    ranked = [line for line in result.stdout.splitlines() if line[:3] in ("1. ", "2. ")]
    assert len(ranked) == 2
    assert "001_561db33d66e26b4e.txt" in ranked[0]


def test_eval_retrieval_only_writes_run_report_and_compares(cli_env, tmp_path: Path):
    out = tmp_path / "results"
    result = cli_env.invoke(app, ["eval", "--retrieval-only", "--limit", "8", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [run_json] = list(out.glob("*.json"))
    run = json.loads(run_json.read_text())
    assert run["meta"]["n"] == 64 and run["meta"]["retrieval_only"]  # 8 of each set
    tuning = {"dev", "test", "dev2", "dev3", "dev4", "corpus2"}
    assert set(run["metrics"]["by_set"]) == tuning | {"sealed", "sealed-docs"}
    for block in run["metrics"]["by_set"].values():
        assert 0.0 <= block["hit@5"] <= 1.0 and 0.0 <= block["section_hit@3"] <= 1.0
    assert run_json.with_suffix(".md").read_text().startswith("# Eval run")
    cmp = cli_env.invoke(app, ["eval", "--compare", str(run_json), str(run_json)])
    assert cmp.exit_code == 0 and "+0.000" in cmp.output


def test_eval_runs_only_the_questions_named_by_id(cli_env, tmp_path: Path):
    from eval.sets import SETS, load_set

    # one question of each of two sets, read by program: no test names an eval item
    picked = [(name, load_set(SETS[name])[0]["id"]) for name in ("dev", "dev3")]
    out = tmp_path / "results"
    args = ["eval", "--retrieval-only", "--out", str(out)]
    for _, qid in picked:
        args += ["--id", qid]
    result = cli_env.invoke(app, args)
    assert result.exit_code == 0, result.output
    [run_json] = list(out.glob("*.json"))
    records = json.loads(run_json.read_text())["records"]
    assert sorted((r["set"], r["id"]) for r in records) == sorted(picked)
    unknown = cli_env.invoke(app, ["eval", "--retrieval-only", "--id", "no-such-question"])
    assert unknown.exit_code == 1 and "no-such-question" in unknown.output
    sealed = cli_env.invoke(app, ["eval", "--retrieval-only", "--set", "sealed", "--id", "x"])
    assert sealed.exit_code == 1 and "sealed set runs whole" in sealed.output


def test_gate_fails_when_hit5_drops(cli_env, tmp_path: Path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"metrics": {"overall": {"hit@5": 1.5}}}))
    result = cli_env.invoke(
        app,
        [
            "eval",
            "--retrieval-only",
            "--limit",
            "3",
            "--out",
            str(tmp_path / "r"),
            "--gate",
            str(baseline),
        ],
    )
    assert result.exit_code == 1
    assert "below the baseline" in result.output


def test_missing_index_is_a_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "none"))
    result = CliRunner().invoke(app, ["search", "anything"])
    assert result.exit_code == 1
    assert "rag index" in result.output


def test_eval_chat_retrieval_only_scores_every_turn(cli_env, tmp_path: Path):
    out = tmp_path / "chat"
    result = cli_env.invoke(
        app, ["eval", "--chat", "--retrieval-only", "--limit", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    [run_json] = list(out.glob("*-chat-retrieval.json"))
    run = json.loads(run_json.read_text())
    assert run["meta"]["eval_set"] == "chat"
    ids = [r["id"] for r in run["records"]]
    assert ids[:3] == ["chat-01.1", "chat-01.2", "chat-01.3"]
    follow_up = run["records"][1]
    assert follow_up["kind"] == "follow-up"
    assert "mechanical engineering" in follow_up["query"]  # the history was searched too


@pytest.mark.llm
def test_chat_streams_answers_and_lists_sources(cli_env):
    turns = ["Which two file systems make up ScaleFS?", "How does it order operations?", "/quit"]
    result = cli_env.invoke(app, ["chat"], input="\n".join(turns) + "\n")
    assert result.exit_code == 0, result.output
    first, second = result.stdout.split("you> ")[1:3]
    assert "MemFS" in first and "DiskFS" in first
    assert "Sources:" in first and "003_b0b85c14b122427e.txt" in first
    assert "Sources:" in second or "Closest passages:" in second


def test_index_and_documents_commands(tmp_path: Path, monkeypatch):
    from tests.report_files import make_docx

    runner = CliRunner()
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(tmp_path / "missing"))
    missing = runner.invoke(app, ["index"])
    assert missing.exit_code == 1
    assert "corpus path not found" in missing.output and "missing" in missing.output
    assert "Traceback" not in missing.output
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    monkeypatch.setenv("RAG_SEEDS_DIR", str(corpus))
    empty = runner.invoke(app, ["index"])
    assert empty.exit_code == 0 and "no documents are indexed yet" in empty.output
    (corpus / "sub" / "notes.md").write_text("# Notes\n\nThe Avocet relay runs at 9 volts.\n")
    built = runner.invoke(app, ["index"])
    assert built.exit_code == 0 and "1 embedded" in built.output and "1 reports" in built.output
    added = runner.invoke(app, ["documents", "add", str(make_docx(tmp_path / "ferris.docx"))])
    assert added.exit_code == 0 and "ferris.docx" in added.output
    listed = runner.invoke(app, ["documents", "list"])
    assert "sub/notes.md" in listed.output and "ferris.docx" in listed.output
    found = re.search(r"([0-9a-f]{16})\s+docx", listed.output)  # stderr (progress) is mixed in
    assert found, listed.output
    doc_id = found.group(1)
    removed = runner.invoke(app, ["documents", "remove", doc_id])
    assert removed.exit_code == 0 and not (corpus / "ferris.docx").exists()
    assert "ferris" not in runner.invoke(app, ["documents", "list"]).output
