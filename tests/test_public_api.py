"""The library's public surface: ``rag.__all__`` is what ``api/``, ``eval/`` and
``bench/`` import, every name in it resolves, and ``import rag`` stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import rag
from rag.config import REPO_ROOT


def _imports_of_rag(folder: Path) -> list[tuple[str, str | None, list[str]]]:
    out = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rag":
                out.append(
                    (str(path.relative_to(REPO_ROOT)), node.module, [a.name for a in node.names])
                )
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "rag":
                        out.append((str(path.relative_to(REPO_ROOT)), alias.name, []))
    return out


def test_api_eval_and_bench_use_only_the_public_surface():
    imports = [i for f in ("api", "eval", "bench") for i in _imports_of_rag(REPO_ROOT / f)]
    assert imports  # the check looks at something
    deep = [(f, m) for f, m, _ in imports if m != "rag"]
    assert not deep, f"import from rag's public surface instead: {deep}"
    unknown = [(f, n) for f, _, names in imports for n in names if n not in rag.__all__]
    assert not unknown, unknown


def test_every_public_name_resolves():
    for name in rag.__all__:
        assert getattr(rag, name) is not None, name
    assert len(set(rag.__all__)) == len(rag.__all__)


def test_importing_rag_does_not_load_torch_or_llama():
    code = "import sys, rag; print('torch' in sys.modules, 'llama_cpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_data_paths_come_from_rag_home_when_set(tmp_path: Path):
    code = "from rag import Settings; s = Settings(); print(s.seeds_path, s.index_path)"
    env = {"RAG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(tmp_path / "seeds"), str(tmp_path / "index")]
