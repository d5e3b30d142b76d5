"""A short, bounded run of ``bench/load.py`` against the real server: under more callers
than the queue holds, every request is answered or refused with 503 + Retry-After;
none fails, none hangs, memory stays flat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import REPO_ROOT


@pytest.mark.llm
def test_overload_gives_503s_never_errors_or_hangs(
    live_server, counting, tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(counting[0].admission, "max_waiting", 2)
    # one answer first: llama.cpp allocates its compute buffers on the first generation,
    # a one-time cost that is not growth under load
    counting[0].answer("What is Riptide?")
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "bench" / "load.py"),
            "--url",
            live_server,
            "--clients",
            "6",
            "--seconds",
            "30",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert result["errors"] == 0 and result["hung"] == 0, result
    assert result["done"] >= 1 and result["busy_503"] >= 1, result
    assert result["busy_without_retry_after"] == 0
    assert result["queue_depth_max"] <= 2
    assert result["rss_mib_max"] - result["rss_mib_first"] < 300, result
