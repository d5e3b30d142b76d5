from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.answer.models import DEFAULT_GGUF_NAME, assemble_default_model, resolve_model
from rag.errors import ModelIntegrity, ModelNotFound


def test_wrong_sha_default_model_is_refused(tmp_path: Path):
    (tmp_path / DEFAULT_GGUF_NAME).write_bytes(b"GGUF not really a model")
    with pytest.raises(ModelIntegrity, match="refusing to load"):
        assemble_default_model(tmp_path)


def test_configured_model_checked_against_given_sha(tmp_path: Path):
    model = tmp_path / "other.gguf"
    model.write_bytes(b"some bytes")
    good = hashlib.sha256(b"some bytes").hexdigest()
    assert resolve_model(model, tmp_path, good) == model
    with pytest.raises(ModelIntegrity):
        resolve_model(model, tmp_path, "0" * 64)


def test_missing_configured_model(tmp_path: Path):
    with pytest.raises(ModelNotFound):
        resolve_model(tmp_path / "nope.gguf", tmp_path)
