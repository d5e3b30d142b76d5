"""Indexing cost: a full build of a generated corpus, the re-index after one document
changed (target: at most 0.05 of the full build), and a 20-page PDF upload until it is
answerable.

    .venv/bin/python bench/index.py [--docs 200] [--repeats 3] [--out FILE]

The corpus is generated from the seed reports' sentences, shuffled into documents of
varied length and format (Markdown, plain text with numbered headings, HTML, Word),
each with a heading structure and an invented name, so no two documents are equal.
The upload goes through ``Collection.add`` (what ``POST /v1/documents`` calls) into a
copy of the seeds' index; "answerable" means the new build is loaded and a search for
a fact on the PDF's last page returns that page.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag import (  # noqa: E402
    Collection,  # noqa: E402
    SentenceTransformerEmbedder,  # noqa: E402
    Settings,  # noqa: E402
    build_index,
    find_sources,
    load_retriever,  # noqa: E402
)
from tests.report_files import make_pdf  # noqa: E402


def sentences(seeds: Path) -> list[str]:
    out: list[str] = []
    for src in find_sources(seeds):
        text = re.sub(r"^#+ .*$", "", src.path.read_text(encoding="utf-8"), flags=re.M)
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 5]
    return out


def generate(folder: Path, n: int, pool: list[str], rng: random.Random) -> None:
    import docx

    for i in range(n):
        name = f"Report {i:03d} on the {rng.choice(['Osprey', 'Kestrel', 'Plover', 'Tern'])} fleet"
        sections = []
        for k in range(rng.randint(2, 6)):
            body = " ".join(rng.sample(pool, rng.randint(3, 12)))
            sections.append((f"Part {k + 1} of report {i}", body))
        kind = i % 4
        if kind == 0:
            text = f"# {name}\n\n" + "".join(f"## {h}\n\n{b}\n\n" for h, b in sections)
            (folder / f"r{i:03d}.md").write_text(text, encoding="utf-8")
        elif kind == 1:
            parts = "".join(f"{k + 1}. {h}\n\n{b}\n\n" for k, (h, b) in enumerate(sections))
            (folder / f"r{i:03d}.txt").write_text(f"{name}\n\n{parts}", encoding="utf-8")
        elif kind == 2:
            html = "".join(f"<h2>{h}</h2><p>{b}</p>" for h, b in sections)
            (folder / "web").mkdir(exist_ok=True)
            (folder / "web" / f"r{i:03d}.html").write_text(
                f"<html><body><nav>menu</nav><main><h1>{name}</h1>{html}</main></body></html>",
                encoding="utf-8",
            )
        else:
            d = docx.Document()
            d.add_heading(name, 0)
            for h, b in sections:
                d.add_heading(h, 1)
                d.add_paragraph(b)
            (folder / "word").mkdir(exist_ok=True)
            d.save(str(folder / "word" / f"r{i:03d}.docx"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3, help="full builds and re-indexes timed")
    ap.add_argument("--pages", type=int, default=20, help="pages of the uploaded PDF")
    ap.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    settings = Settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    embedder.encode(["warm up"])
    pool = sentences(settings.seeds_path)
    work = Path(tempfile.mkdtemp(prefix="bench-index-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        generate(corpus, args.docs, pool, random.Random(7))
        full, one, noop = [], [], []
        chunks = 0
        for r in range(args.repeats):
            index = work / f"index{r}"
            t = time.perf_counter()
            result = build_index(corpus, index, embedder)
            full.append(time.perf_counter() - t)
            chunks = result.chunks
            target = sorted(corpus.glob("*.md"))[r]
            target.write_text(target.read_text() + f"\nA new closing line, edit {r}.\n")
            t = time.perf_counter()
            changed = build_index(corpus, index, embedder)
            one.append(time.perf_counter() - t)
            assert changed.embedded == 1, changed
            t = time.perf_counter()
            build_index(corpus, index, embedder)
            noop.append(time.perf_counter() - t)
        # a 20-page PDF uploaded into a copy of the seeds' index
        seeds_index = work / "seeds-index"
        seeds = work / "seeds"
        shutil.copytree(settings.seeds_path, seeds)
        build_index(seeds, seeds_index, embedder)
        pdf = make_pdf(work / "harbor.pdf", pages=args.pages)
        s = settings.model_copy(update={"seeds_dir": seeds, "index_dir": seeds_index})
        docs = Collection(seeds, seeds_index, embedder)
        t = time.perf_counter()
        record = docs.add("harbor.pdf", pdf.read_bytes()).record
        retriever = load_retriever(s, embedder)
        hit = retriever.search(f"maintenance window {args.pages * 7} of the harbor", 1)[0]
        upload = time.perf_counter() - t
        page = retriever.store.page_of(hit.chunk.source, hit.chunk.start)
        assert hit.chunk.source == "harbor.pdf" and page == args.pages, (hit.chunk, page)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {
        "docs": args.docs,
        "chunks": chunks,
        "full_build_s": round(statistics.median(full), 2),
        "one_changed_s": round(statistics.median(one), 3),
        "ratio": round(statistics.median(one) / statistics.median(full), 4),
        "unchanged_check_s": round(statistics.median(noop), 3),
        "upload_pages": args.pages,
        "upload_chunks": record["chunks"],
        "upload_answerable_s": round(upload, 2),
    }
    print(json.dumps(res, indent=2))
    if args.out:
        args.out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
