from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from rag.index.store import FORMAT_VERSION, Store
from rag.types import Chunk


def _store(n: int, dim: int = 8, seed: int = 0) -> Store:
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    chunks = [Chunk(f"s{i % 3}.txt", ("A", f"B{i}"), f"text {i}", i, i + 6) for i in range(n)]
    return Store.from_vectors(
        chunks, vecs, {"format": FORMAT_VERSION, "embedding_model": "m", "dim": dim}
    )


def test_round_trip_returns_same_chunks_and_results(tmp_path: Path):
    store = _store(50)
    store.save(tmp_path)
    loaded = Store.load(tmp_path, "m", 8)
    assert loaded.chunks == store.chunks
    q = store.vectors.vectors([7])[0]
    assert loaded.search(q, 3)[0][0] == 7
    assert loaded.search(q, 3) == store.search(q, 3)


def test_missing_index_says_run_rag_index(tmp_path: Path):
    with pytest.raises(IndexNotFound, match="rag index"):
        Store.load(tmp_path)


def test_other_embedding_model_is_refused(tmp_path: Path):
    _store(5).save(tmp_path)
    with pytest.raises(IndexMismatch, match="rag index"):
        Store.load(tmp_path, "another-model", 8)
    with pytest.raises(IndexMismatch):
        Store.load(tmp_path, "m", 16)


def test_corrupt_file_is_detected_and_named(tmp_path: Path):
    build = _store(20).save(tmp_path)
    data = bytearray((build / "vectors.faiss").read_bytes())
    data[-5] ^= 0xFF
    (build / "vectors.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="vectors.faiss"):
        Store.load(tmp_path)


def test_old_builds_are_pruned(tmp_path: Path):
    for i in range(4):
        _store(5, seed=i).save(tmp_path)
    assert len(list((tmp_path / "builds").iterdir())) == 2


_WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from pathlib import Path
    from rag.index.store import FORMAT_VERSION, Store
    from rag.types import Chunk
    n, dim = 30000, 128
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    chunks = [Chunk("big.txt", ("H",), "x" * 200, i, i + 200) for i in range(n)]
    print("ready", flush=True)
    while True:
        manifest = {"format": FORMAT_VERSION, "embedding_model": "m", "dim": dim}
        Store.from_vectors(chunks, vecs, manifest).save(Path(sys.argv[1]))
    """
)


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8, 1.5])
def test_killed_writer_leaves_a_loadable_index(tmp_path: Path, delay: float):
    """SIGKILL a process in the middle of saving: the previous build must still load."""
    _store(10).save(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    loaded = Store.load(tmp_path, "m")
    assert len(loaded.chunks) in (10, 30000)
    assert len(loaded.vectors) == len(loaded.chunks)
