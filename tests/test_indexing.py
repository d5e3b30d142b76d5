from __future__ import annotations

import shutil
from pathlib import Path

from rag.config import REPO_ROOT
from rag.indexing import build_index, read_sources
from rag.store import Store


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
    texts, hashes, skipped = read_sources(tmp_seeds)
    assert list(texts) == ["good.md"] and list(hashes) == ["good.md"]
    assert sorted(skipped) == ["binary.txt", "empty.txt", "latin1.txt"]
