"""Building llama-cpp-python for the CPU it lands on, never for the CPU that built it.

pip builds llama.cpp with ``-march=native`` by default, so a wheel carries whatever the
building CPU offers: on a CPU with AMX the binary takes ggml's AMX matmul path, which
dies with SIGSEGV at the first question, and a wheel built with AVX-512 dies with SIGILL
on a CPU without it. pip caches that wheel by version, not by ``CMAKE_ARGS``, so the
native build would come back on the next set-up. Here the CPU features are read from
``/proc/cpuinfo``, mapped to explicit ``GGML_*`` switches (AMX always off), and the
wheel is built with pip's cache off into a cache of our own keyed by those switches; the
switches are recorded beside the virtualenv so ``rag models`` and ``/readyz`` can show them.

Standard library only: ``make`` runs this file as a script before the project is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "LLAMA_VERSION",
    "RECORD_NAME",
    "choose_options",
    "cmake_args",
    "cpu_flags",
    "installed_record",
]

LLAMA_VERSION = "0.3.36"
RECORD_NAME = "llama-cpp-build.json"

# (ggml switch, the /proc/cpuinfo flags it needs, the switch it builds on)
_SWITCHES: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("GGML_SSE42", ("sse4_2",), None),
    ("GGML_AVX", ("avx",), None),
    ("GGML_AVX2", ("avx2",), "GGML_AVX"),
    ("GGML_FMA", ("fma",), "GGML_AVX"),
    ("GGML_F16C", ("f16c",), "GGML_AVX"),
    ("GGML_BMI2", ("bmi2",), None),
    ("GGML_AVX_VNNI", ("avx_vnni",), "GGML_AVX2"),
    # ggml's AVX512 switch compiles with -mavx512{f,cd,vl,dq,bw}: all five must be there
    ("GGML_AVX512", ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"), "GGML_AVX2"),
    ("GGML_AVX512_VBMI", ("avx512vbmi",), "GGML_AVX512"),
    ("GGML_AVX512_VNNI", ("avx512_vnni",), "GGML_AVX512"),
    ("GGML_AVX512_BF16", ("avx512_bf16",), "GGML_AVX512"),
)
# Known to crash (SIGSEGV in ggml_backend_amx_mul_mat at ldtilecfg): off whatever the CPU says.
_NEVER = ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor in a ``/proc/cpuinfo`` text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def choose_options(flags: Iterable[str]) -> dict[str, bool]:
    """Every ggml CPU switch set explicitly: on only where the CPU has all it needs."""
    have = set(flags)
    options: dict[str, bool] = {"GGML_NATIVE": False}
    for switch, needs, base in _SWITCHES:
        options[switch] = all(f in have for f in needs) and (base is None or options[base])
    for switch in _NEVER:
        options[switch] = False
    return options


def cmake_args(options: dict[str, bool]) -> str:
    """The ``CMAKE_ARGS`` value for these switches."""
    return " ".join(f"-D{k}={'ON' if v else 'OFF'}" for k, v in options.items())


def build_key(options: dict[str, bool]) -> str:
    """Names one build: llama-cpp-python's version, this Python's tag and the switches."""
    digest = hashlib.sha256(cmake_args(options).encode()).hexdigest()[:12]
    return f"{LLAMA_VERSION}-py{sys.version_info[0]}{sys.version_info[1]}-{digest}"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reports-rag" / "llama-cpp-python"


def installed_record(prefix: str | None = None) -> dict[str, object] | None:
    """What ``make`` recorded of the installed build (switches, wheel), or None."""
    path = Path(prefix or sys.prefix) / RECORD_NAME
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _cpu_model(cpuinfo_path: Path) -> str:
    text = cpuinfo_path.read_text() if cpuinfo_path.is_file() else ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return ""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _build_wheel(python: str, options: dict[str, bool], into: Path) -> Path:
    """Build the wheel with pip's cache off (its cache ignores CMAKE_ARGS), then move the
    finished folder into place in one rename, so an interrupted build leaves nothing."""
    into.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=into.parent))
    try:
        env = dict(os.environ, CMAKE_ARGS=cmake_args(options), FORCE_CMAKE="1")
        subprocess.run(
            [python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-cache-dir"]
            + ["--no-binary", "llama-cpp-python", "-w", str(tmp)]
            + [f"llama-cpp-python=={LLAMA_VERSION}"],
            env=env,
            check=True,
        )
        wheels = list(tmp.glob("llama_cpp_python-*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"expected one llama-cpp-python wheel in {tmp}, found {wheels}")
        meta = {"cmake_args": cmake_args(options), "wheel": wheels[0].name}
        meta["wheel_sha256"] = _sha256(wheels[0])
        (tmp / "build.json").write_text(json.dumps(meta, indent=1))
        shutil.rmtree(into, ignore_errors=True)
        os.replace(tmp, into)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return into


def install(python: str, cpuinfo_path: Path, force: bool = False) -> dict[str, object]:
    """Install (building once per switch set) the llama-cpp-python wheel for this CPU into
    the environment of ``python``; return the record written beside it. ``force`` rebuilds
    even when a wheel for these switches is cached."""
    flags = cpu_flags(cpuinfo_path.read_text()) if cpuinfo_path.is_file() else frozenset()
    options = choose_options(flags)
    key = build_key(options)
    prefix = subprocess.run(
        [python, "-c", "import sys; print(sys.prefix)"], check=True, capture_output=True, text=True
    ).stdout.strip()
    current = installed_record(prefix)
    if current and current.get("key") == key and not force:
        probe = subprocess.run([python, "-c", "import llama_cpp"], capture_output=True)
        if probe.returncode == 0:
            return current
    folder = _cache_root() / key
    if force or not (folder / "build.json").is_file():
        print(f"building llama-cpp-python {LLAMA_VERSION} for this CPU: {cmake_args(options)}")
        _build_wheel(python, options, folder)
    meta = json.loads((folder / "build.json").read_text())
    wheel = folder / meta["wheel"]
    if _sha256(wheel) != meta["wheel_sha256"]:
        raise SystemExit(f"{wheel} does not match its recorded sha256: delete {folder}")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
    )
    record: dict[str, object] = {
        "key": key,
        "version": LLAMA_VERSION,
        "cmake_args": meta["cmake_args"],
        "enabled": sorted(k for k, v in options.items() if v),
        "wheel_sha256": meta["wheel_sha256"],
        "cpu": _cpu_model(cpuinfo_path) or platform.machine(),
    }
    out = Path(prefix) / RECORD_NAME
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, out)
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the environment's python")
    parser.add_argument("--cpuinfo", type=Path, default=Path("/proc/cpuinfo"))
    parser.add_argument("--print", action="store_true", help="only print the CMAKE_ARGS")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    if args.print:
        flags = cpu_flags(args.cpuinfo.read_text()) if args.cpuinfo.is_file() else frozenset()
        print(cmake_args(choose_options(flags)))
        return
    record = install(args.python, args.cpuinfo, force=args.force)
    enabled = record.get("enabled")
    names = " ".join(map(str, enabled)) if isinstance(enabled, list) else ""
    print(f"llama-cpp-python {LLAMA_VERSION}: {names}")


if __name__ == "__main__":
    main()
