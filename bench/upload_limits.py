"""How fast and in how much memory hostile uploads are refused (the files of
tests/test_upload_limits.py). Prints seconds and peak extra RSS per file.

    .venv/bin/python bench/upload_limits.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.report_files import make_blank_pdf  # noqa: E402
from tests.test_upload_limits import _CHILD, _docx_bomb  # noqa: E402


def main() -> None:
    import json

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = [_docx_bomb(root / "bomb.docx", inflated_mb=1024)]
        nested = root / "nested.html"
        nested.write_text("<html><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000)
        files.append(nested)
        files.append(make_blank_pdf(root / "blank.pdf", pages=3000))
        for path in files:
            t0 = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True
            )
            seconds = time.perf_counter() - t0
            result = json.loads(done.stdout.splitlines()[-1])
            size = path.stat().st_size / 2**20
            print(
                f"{path.name:12} {size:6.2f} MB  refused in {seconds:5.2f} s (child, incl. "
                f"imports)  extra RSS {result['extra_mb']:6.1f} MB  {result['error']}"
            )


if __name__ == "__main__":
    main()
