from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rag.config import REPO_ROOT
from rag.index.store import Store
from rag.ingest.indexing import build_index, read_sources


def _copy_two_seeds(dest: Path) -> None:
    for p in sorted((REPO_ROOT / "seeds").iterdir())[:2]:
        shutil.copy(p, dest / p.name)


def test_reindex_only_when_sources_change(tmp_seeds: Path, tmp_path: Path, embedder):
    _copy_two_seeds(tmp_seeds)
    index = tmp_path / "index"
    first = build_index(tmp_seeds, index, embedder)
    assert first.rebuilt and first.sources == 2 and first.chunks > 10
    again = build_index(tmp_seeds, index, embedder)
    assert not again.rebuilt
    (tmp_seeds / "extra.md").write_text("# New report\nA fact about quantum tea kettles.\n")
    changed = build_index(tmp_seeds, index, embedder)
    assert changed.rebuilt and changed.chunks == first.chunks + 1
    store = Store.load(index, embedder.name, embedder.dim)
    assert store.manifest["sources"].keys() == {p.name for p in tmp_seeds.iterdir()}
    assert store.manifest["embedding_model"] == embedder.name


def test_changed_settings_force_rebuild(tmp_seeds: Path, tmp_path: Path, embedder):
    _copy_two_seeds(tmp_seeds)
    index = tmp_path / "index"
    build_index(tmp_seeds, index, embedder, overlap_tokens=24)
    assert build_index(tmp_seeds, index, embedder, overlap_tokens=0).rebuilt


def test_odd_files_are_skipped_and_named(tmp_seeds: Path):
    (tmp_seeds / "good.md").write_text("# Fine\ntext\n")
    (tmp_seeds / "empty.txt").write_text("   \n")
    (tmp_seeds / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 10)
    (tmp_seeds / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_seeds / "image.png").write_bytes(b"\x89PNG")
    (tmp_seeds / "gone.md").symlink_to(tmp_seeds / "deleted.md")
    (tmp_seeds / "folder.md").mkdir()
    texts, hashes, skipped = read_sources(tmp_seeds)
    assert list(texts) == ["good.md"] and list(hashes) == ["good.md"]
    assert sorted(skipped) == ["binary.txt", "empty.txt", "gone.md", "latin1.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_skipped_and_named(tmp_seeds: Path):
    (tmp_seeds / "good.md").write_text("# Fine\ntext\n")
    secret = tmp_seeds / "secret.md"
    secret.write_text("# Hidden\ntext\n")
    secret.chmod(0)
    texts, _, skipped = read_sources(tmp_seeds)
    assert list(texts) == ["good.md"] and skipped == ["secret.md"]


_INDEX_IN_TMP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from rag.index.embedding import SentenceTransformerEmbedder
    from rag.ingest.indexing import build_index
    print("ready", flush=True)
    build_index(Path(sys.argv[1]), Path(sys.argv[2]), SentenceTransformerEmbedder(), force=True)
    """
)


@pytest.mark.parametrize("delay", [1.0, 6.0, 12.0])
def test_killed_reindex_leaves_the_previous_index_loadable(
    tmp_seeds: Path, tmp_path: Path, embedder, delay: float
):
    """Kill a whole re-index (model loading, embedding, saving) part-way through."""
    _copy_two_seeds(tmp_seeds)
    index = tmp_path / "index"
    build_index(tmp_seeds, index, embedder)
    before = Store.load(index, embedder.name, embedder.dim)
    proc = subprocess.Popen(
        [sys.executable, "-c", _INDEX_IN_TMP, str(tmp_seeds), str(index)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = Store.load(index, embedder.name, embedder.dim)  # old or new, never a mix
    assert len(after.chunks) == len(before.chunks)
    assert len(after.vectors) == len(after.chunks)
