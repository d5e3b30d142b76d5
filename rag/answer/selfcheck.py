"""A start-up self-check: evaluate a short prompt in a child process before serving.

A llama.cpp binary built for CPU features the CPU lacks dies with SIGILL, and one whose
AMX path crashes dies with SIGSEGV: both kill the whole process, so a server that loaded
such a build would die at its first question. The check runs the same build in a child
first; if the child dies, the parent reports the signal, the likely cause and the fix in
one line, and refuses to start instead.

The child prints llama.cpp's own system info (the CPU features it was built with) before
it evaluates, so the report names them even when evaluation kills it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rag.errors import ModelCrashed

__all__ = ["CRASH_SWITCH", "build_info", "cpu_features", "run_selfcheck"]

# Test-only: the child kills itself with this signal (e.g. SIGSEGV) where evaluation runs.
CRASH_SWITCH = "RAG_SELFCHECK_CRASH"
_PROMPT = "Hello"
_TIMEOUT_S = 300.0
_passed: set[tuple[str, int]] = set()
_lock = threading.Lock()


def cpu_features(system_info: str) -> list[str]:
    """The features ``llama_print_system_info()`` reports as on (``AVX512 = 1``), in its order."""
    return [m.group(1) for m in re.finditer(r"([A-Z][A-Z0-9_]*) = 1\b", system_info)]


def build_info() -> dict[str, Any]:
    """What the loaded llama.cpp was built with: its CPU features, and the switches
    ``rag/answer/llama_build.py`` recorded when it installed the wheel (None if it did not)."""
    import llama_cpp

    from rag.answer.llama_build import installed_record

    record = installed_record()
    return {
        "version": llama_cpp.__version__,
        "cpu_features": cpu_features(llama_cpp.llama_print_system_info().decode()),
        "cmake_args": record.get("cmake_args") if record else None,
    }


def _describe(returncode: int, features: list[str]) -> tuple[str, str]:
    """The signal's name and the likely cause, for a child that exited with ``returncode``
    running a build with ``features``."""
    if returncode >= 0:
        return f"exit status {returncode}", "llama.cpp failed to load or run the model"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    amx = [f for f in features if f.startswith("AMX")]
    if name == "SIGILL":
        cause = "the installed llama.cpp uses CPU instructions this CPU does not have"
    elif amx:
        cause = f"the installed llama.cpp was built with {'/'.join(amx)}, whose matmul crashes"
    else:
        cause = "the installed llama.cpp takes a CPU code path that crashes on this CPU"
    return name, cause


def run_selfcheck(model_path: Path, n_threads: int = 2) -> dict[str, Any]:
    """Evaluate a short prompt with ``model_path`` in a child process; return the build's
    info and the seconds it took, or raise ``ModelCrashed`` in one line if the child dies.
    A pass is remembered for the process, so loading the model again does not repeat it."""
    key = (str(model_path), n_threads)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "rag.answer.selfcheck", str(model_path), str(n_threads)],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelCrashed(
            f"llama.cpp self-check did not evaluate a {len(_PROMPT)}-character prompt in "
            f"{_TIMEOUT_S:.0f} s: the model or the build is unusable on this machine"
        ) from exc
    lines = proc.stdout.splitlines()
    info: dict[str, Any] = json.loads(lines[0]) if lines and lines[0].startswith("{") else {}
    if proc.returncode != 0 or "ok" not in lines[1:]:
        built = list(info.get("cpu_features") or [])
        name, cause = _describe(proc.returncode, built)
        features = " ".join(built) or "unknown"
        detail = ""
        if proc.returncode > 0 and proc.stderr.strip():
            detail = f" ({proc.stderr.strip().splitlines()[-1]})"
        raise ModelCrashed(
            f"llama.cpp self-check died by {name}{detail}: likely cause: {cause} "
            f"(built with CPU features: {features}); fix: rebuild it for this CPU with "
            "`python -P rag/answer/llama_build.py --force` (what `make setup` runs), "
            "or answer with a model server (RAG_LLM_URL)"
        )
    with _lock:
        _passed.add(key)
    return {**info, "seconds": round(time.monotonic() - started, 2)}


def passed(model_path: Path, n_threads: int) -> bool:
    """This process already saw the self-check pass for this model and thread count."""
    with _lock:
        return (str(model_path), n_threads) in _passed


def _child(model_path: str, n_threads: int) -> None:
    from llama_cpp import Llama

    print(json.dumps(build_info()), flush=True)
    llm = Llama(model_path=model_path, n_ctx=256, n_threads=n_threads, seed=0, verbose=False)
    crash = os.environ.get(CRASH_SWITCH)
    if crash:
        os.kill(os.getpid(), signal.Signals[crash])
    llm.create_completion(_PROMPT, max_tokens=2, temperature=0.0)
    print("ok", flush=True)


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]))
