"""Readers' feedback: kept on disk before the 201 (a SIGKILL right after loses nothing),
exported as draft eval items, which ``rag eval`` refuses until they are completed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from typer.testing import CliRunner

from rag.cli import app
from rag.serving.feedback import FeedbackLog, draft_items

CITATION = {"n": 1, "source": "kestrel.md", "title": "Kestrel notes", "section": "Kit",
            "quote": "The kit weighs 4 kg.", "start": 10, "end": 30}  # fmt: skip


def _verdict(n: int, rating: str = "wrong") -> dict:
    return {
        "rating": rating,
        "question": f"How heavy is kit number {n}?",
        "answer": "The kit weighs 4 kg [1].",
        "citations": [CITATION],
        "build_id": "b-1",
        "note": "it is 5 kg since the refit" if rating == "wrong" else "",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_feedback_survives_a_kill_right_after_its_201(tmp_path: Path, settings):
    path = tmp_path / "fb" / "feedback.jsonl"
    port = _free_port()
    env = dict(
        os.environ,
        RAG_INDEX_DIR=str(settings.index_path),
        RAG_FEEDBACK_FILE=str(path),
        RAG_SELFCHECK="false",
        HF_HUB_OFFLINE="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # feedback needs no model: the service takes it once up
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        bad = httpx.post(f"{url}/v1/feedback", json={"rating": "meh", "question": "q"})
        assert bad.status_code == 422

        def send(n: int) -> str:
            r = httpx.post(f"{url}/v1/feedback", json=_verdict(n), timeout=30)
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(send, range(20)))
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown, no flush: only what was on disk
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    kept = FeedbackLog(path).read()
    assert sorted(r["id"] for r in kept) == sorted(ids)
    assert all(r["note"] == "it is 5 kg since the refit" for r in kept)


def test_a_torn_last_line_is_skipped_not_fatal(tmp_path: Path):
    log = FeedbackLog(tmp_path / "feedback.jsonl")
    first = log.add(_verdict(1))
    with (tmp_path / "feedback.jsonl").open("ab") as f:
        f.write(b'{"id": "half-writ')  # a machine that lost power mid-write
    assert [r["id"] for r in log.read()] == [first["id"]]


def test_wrong_answers_export_as_drafts_that_rag_eval_refuses(tmp_path: Path, monkeypatch):
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path)
    log.add(_verdict(1))
    log.add(_verdict(2, "helpful"))
    monkeypatch.setenv("RAG_FEEDBACK_FILE", str(path))
    runner = CliRunner()
    printed = runner.invoke(app, ["feedback", "export"])
    assert printed.exit_code == 0, printed.output
    items = [json.loads(line) for line in printed.stdout.splitlines() if line.strip()]
    assert len(items) == 1  # the helpful one is not a draft
    item = items[0]
    assert item["question"] == "How heavy is kit number 1?" and item["must_include"] == []
    assert item["answer_given"] == "The kit weighs 4 kg [1]." and item["sources"] == ["kestrel.md"]
    assert item["note"] == "it is 5 kg since the refit" and item["answer"] == ""
    drafts = tmp_path / "drafts.jsonl"
    for _ in range(2):  # exported twice: appended once
        assert runner.invoke(app, ["feedback", "export", "--out", str(drafts)]).exit_code == 0
    assert len(drafts.read_text().splitlines()) == 1
    refused = runner.invoke(app, ["eval", "--qa", str(drafts), "--retrieval-only"])
    assert refused.exit_code == 1
    assert "no expected terms" in refused.output and item["id"] in refused.output
    done = dict(item, must_include=["5 kg"], answer="5 kg.")
    assert not draft_items([{"rating": "helpful"}])
    drafts.write_text(json.dumps(done) + "\n")
    # completed, the item loads (what the eval then scores is the eval's business)
    from eval.sets import EvalSet, load_set

    assert load_set(EvalSet("custom", (drafts,)))[0]["must_include"] == ["5 kg"]


def test_a_verdict_after_a_torn_line_starts_its_own_line(tmp_path: Path):
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path)
    path.write_bytes(b'{"id": "torn-by-a-crash", "rat')
    kept = log.add(_verdict(3))
    assert [r["id"] for r in log.read()] == [kept["id"]]
