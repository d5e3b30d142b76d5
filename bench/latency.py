"""Per-stage latency of answers over an eval split, our overhead over bare llama.cpp on
the very same prompts, and the answer cache on repeats.

    .venv/bin/python bench/latency.py [--set test] [--limit 40] [--out FILE]

For each question it streams the answer (as a client of ``/v1/ask`` would see it) and
records: retrieval (embed + search), evidence selection, prompt tokens, time to the
model's first token, generation, verification, time to the first streamed verified
sentence, and the total. Then it runs each prompt through a bare ``llama_cpp.Llama``
in the same process, and asks the first questions again to time the answer cache.
Prints medians and p95s; ``--out`` also saves them as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from llama_cpp import Llama

from eval.sets import SETS, load_set
from rag import Answer, Delta, Pipeline, Settings, build_messages, resolve_model


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="test", choices=[n for n, s in SETS.items() if not s.corpus])
    ap.add_argument("--limit", type=int, default=40, help="questions of the split (0: all)")
    ap.add_argument("--repeats", type=int, default=10, help="questions asked again (cache)")
    ap.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    questions = [r["question"] for r in load_set(SETS[args.set], limit=args.limit or None)]
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
    stages = (
        "retrieve_ms",
        "select_ms",
        "prompt_tokens",
        "reused_tokens",
        "ttft_s",
        "generation_s",
        "verify_ms",
        "first_sentence_s",
        "total_s",
        "bare_llama_s",
    )
    rows: dict[str, list[float]] = {k: [] for k in stages}
    answered = 0
    for q in questions:
        t0 = time.perf_counter()
        first = None
        answer: Answer | None = None
        for event in pipeline.stream(q):
            if isinstance(event, Answer):
                answer = event
            elif isinstance(event, Delta) and event.text and first is None:
                first = time.perf_counter() - t0
        assert answer is not None
        t = answer.timings
        if t.prompt_tokens == 0:  # refused before the model: no LLM stages to time
            print(f"{t.total_s:6.2f}s  early refusal  {q}")
            continue
        answered += 1
        rows["retrieve_ms"].append((t.embed_s + t.search_s) * 1000)
        rows["select_ms"].append(t.select_s * 1000)
        rows["prompt_tokens"].append(t.prompt_tokens)
        rows["reused_tokens"].append(t.reused_prompt_tokens)
        rows["ttft_s"].append(t.ttft_s)
        rows["generation_s"].append(t.generation_s)
        rows["verify_ms"].append(t.verify_s * 1000)
        rows["first_sentence_s"].append(first if first is not None else t.total_s)
        rows["total_s"].append(t.total_s)
        prompt = gen.render(build_messages(q, answer.passages))
        t1 = time.perf_counter()
        bare.create_completion(
            prompt,
            max_tokens=settings.max_answer_tokens,
            temperature=0.0,
            top_k=1,
            stop=["<|im_end|>"],
        )
        rows["bare_llama_s"].append(time.perf_counter() - t1)
        print(f"{t.total_s:6.2f}s  {t.prompt_tokens:5d} tok  refused={answer.refused}  {q}")
    cached = []
    for q in questions[: args.repeats]:
        t0 = time.perf_counter()
        a = pipeline.answer(q)
        cached.append((time.perf_counter() - t0) * 1000)
        assert a.cached or a.timings.prompt_tokens == 0, q
    summary = {
        k: {"median": statistics.median(v), "p95": pct(v, 0.95)} for k, v in rows.items() if v
    }
    summary["cache_hit_ms"] = {"median": statistics.median(cached), "p95": pct(cached, 0.95)}
    ratio = statistics.median(rows["total_s"]) / statistics.median(rows["bare_llama_s"])
    print(f"\n{answered} answered by the model of {len(questions)} ({args.set} split)")
    print(f"{'stage':<18}{'median':>10}{'p95':>10}")
    for name, v in summary.items():
        print(f"{name:<18}{v['median']:>10.3f}{v['p95']:>10.3f}")
    print(f"\noverhead: pipeline median total / bare llama.cpp median = {ratio:.2f}x")
    if args.out:
        meta = {
            "set": args.set,
            "questions": len(questions),
            "answered": answered,
            "evidence": settings.evidence,
            "overhead": ratio,
        }
        args.out.write_text(json.dumps({"meta": meta, "stages": summary}, indent=1))


if __name__ == "__main__":
    main()
