"""Per-stage latency of ``Pipeline.answer`` on 10 fixed questions, and our overhead over
bare llama.cpp running the very same prompt in the same process.

    .venv/bin/python bench/latency.py [--runs 1]

Prints median and p95 per stage, and the ratio pipeline total / bare llama.cpp total.
"""

from __future__ import annotations

import argparse
import statistics
import time

from llama_cpp import Llama

from rag.config import Settings
from rag.models import resolve_model
from rag.pipeline import Pipeline
from rag.prompt import build_messages

QUESTIONS = [
    "What does FrugalML do when the base API is not confident?",
    "How does Riptide speed up binarized neural networks?",
    "What is Canopy and who built it?",
    "What did Dave Patterson say about carbon emissions?",
    "How many papers were accepted at MLSys 2022?",
    "What problem does Checkmate solve?",
    "What is ZeRO-Infinity?",
    "What is the Lakehouse architecture?",
    "What did Matei Zaharia talk about at the AI Systems Workshop?",
    "How does Pathways schedule work across accelerators?",
]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=1, help="passes over the 10 questions")
    args = ap.parse_args()
    settings = Settings()
    pipeline = Pipeline.from_settings(settings)
    bare = Llama(
        model_path=str(resolve_model(settings.model_path, settings.models_path)),
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        n_batch=512,
        seed=0,
        verbose=False,
    )
    gen = pipeline.generator
    rows: dict[str, list[float]] = {
        k: [] for k in ("embed_ms", "search_ms", "prompt_tokens", "ttft_s", "tok_per_s", "total_s")
    }
    bare_total: list[float] = []
    for _ in range(args.runs):
        for q in QUESTIONS:
            a = pipeline.answer(q)
            t = a.timings
            rows["embed_ms"].append(t.embed_s * 1000)
            rows["search_ms"].append(t.search_s * 1000)
            rows["prompt_tokens"].append(t.prompt_tokens)
            rows["ttft_s"].append(t.ttft_s)
            decode = max(t.generation_s - t.ttft_s, 1e-9)
            rows["tok_per_s"].append(max(t.answer_tokens - 1, 0) / decode)
            rows["total_s"].append(t.total_s)
            prompt = gen.render(build_messages(q, a.passages))
            t0 = time.perf_counter()
            bare.create_completion(
                prompt,
                max_tokens=settings.max_answer_tokens,
                temperature=0.0,
                top_k=1,
                stop=["<|im_end|>"],
            )
            bare_total.append(time.perf_counter() - t0)
            print(f"{t.total_s:6.2f}s  {t.prompt_tokens:5d} tok  refused={a.refused}  {q}")
    print(f"\n{'stage':<14}{'median':>10}{'p95':>10}")
    for name, vals in rows.items():
        print(f"{name:<14}{statistics.median(vals):>10.3f}{pct(vals, 0.95):>10.3f}")
    ratio = statistics.median(rows["total_s"]) / statistics.median(bare_total)
    print(
        f"{'bare_llama_s':<14}{statistics.median(bare_total):>10.3f}{pct(bare_total, 0.95):>10.3f}"
    )
    print(f"\noverhead: pipeline median total / bare llama.cpp median = {ratio:.2f}x")


if __name__ == "__main__":
    main()
