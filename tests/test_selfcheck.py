"""The start-up self-check: a llama.cpp build that dies on this CPU stops ``rag serve``
and ``rag models`` with one line naming the signal, the likely cause and the fix.

The failure path uses a child that really dies by the signal (``RAG_SELFCHECK_CRASH``
makes it kill itself where it would evaluate), not a mock.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rag.answer.selfcheck import CRASH_SWITCH, cpu_features, run_selfcheck
from rag.errors import ModelCrashed

_INFO = (
    "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AVX_VNNI = 0 | AMX_INT8 = 1 | "
    "LLAMAFILE = 1 | "
)


def test_cpu_features_are_the_ones_set_to_one() -> None:
    assert cpu_features(_INFO) == ["SSE3", "AVX", "AVX2", "AVX512", "AMX_INT8", "LLAMAFILE"]
    assert cpu_features("") == []


def _rag(args: list[str], settings, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        env=dict(os.environ, RAG_INDEX_DIR=str(settings.index_path), **env),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.llm
def test_models_shows_the_features_and_passes(settings) -> None:
    done = _rag(["models"], settings)
    assert done.returncode == 0, done.stderr
    assert "self-check passed" in done.stdout
    line = next(x for x in done.stdout.splitlines() if "CPU features:" in x)
    assert "AVX" in line.split("CPU features:")[1] and "AMX" not in line


@pytest.mark.llm
@pytest.mark.parametrize("signal_name", ["SIGSEGV", "SIGILL"])
def test_a_child_killed_by_a_signal_is_one_line_with_cause_and_fix(
    signal_name: str, settings, monkeypatch
) -> None:
    from rag.answer.models import resolve_model

    monkeypatch.setenv(CRASH_SWITCH, signal_name)
    model = resolve_model(settings.model_path, settings.models_path, settings.model_sha256)
    with pytest.raises(ModelCrashed) as caught:
        run_selfcheck(model, settings.n_threads)
    message = str(caught.value)
    assert "\n" not in message
    assert f"died by {signal_name}" in message
    assert "likely cause" in message and "CPU features: SSE3" in message
    assert "fix:" in message and "llama_build.py" in message
    if signal_name == "SIGILL":
        assert "instructions this CPU does not have" in message


@pytest.mark.llm
def test_serve_refuses_to_start_when_the_check_dies(settings) -> None:
    done = _rag(["serve", "--port", "1"], settings, **{CRASH_SWITCH: "SIGSEGV"})
    assert done.returncode == 1
    assert "Serving on" not in done.stdout
    errors = [x for x in done.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "died by SIGSEGV" in errors[0] and "fix:" in errors[0]
