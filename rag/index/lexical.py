"""BM25 over the same chunks as the dense index, with a tokenizer built for reports
full of numbers ("3.48x", "90%"), acronyms ("ZeRO-Infinity", "BNS-GCN") and
hyphenated terms ("right-shift"): each hyphenated or dotted term is indexed whole,
squashed and split, so "right shift", "right-shift" and "rightshift" all match.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np

from rag.grounding.terms import dotless, fold_percent

__all__ = ["LEXICAL_VERSION", "Bm25Index", "tokenize"]

LEXICAL_VERSION = 4  # bump when ``tokenize`` changes: built BM25 indexes hold its terms

# letters of any script: "Marçal" is one term, not "mar" + "al"; "赵琳" is one term
_TOKEN = re.compile(r"[^\W_]+(?:[-.'’/][^\W_]+)*%?")
_STOP = frozenset(
    "a an the of and or to in on for with by from is are was were be been being it its this "
    "that these those as at which who whom what how why when where do does did can could "
    "would should will shall may might they their them he she his her we our you your i me "
    "my not no if than then also there has have had more most very into out about over such "
    "so but all any each other some what's according say said says talk paper report reports "
    "note notes state states stated mention mentions mentioned describe describes described "
    "passage passages discuss discusses discussed".split()
)


def _light_stem(word: str) -> str:
    """Plural/verb -s only: enough to match "stragglers"/"straggler" without a stemmer's
    surprises on names and acronyms."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isalpha():
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased terms for BM25; compound terms also yield their parts."""
    out: list[str] = []
    for m in _TOKEN.finditer(fold_percent(dotless(text)).lower()):
        tok = m.group(0).replace("’", "'")
        if tok in _STOP:
            continue
        out.append(_light_stem(tok))
        if tok.endswith("%"):
            out.append(tok[:-1])
        parts = [p for p in re.split(r"[-.'/]", tok.rstrip("%")) if p]
        if len(parts) > 1:
            out.append("".join(parts))
            out.extend(_light_stem(p) for p in parts if p not in _STOP and len(p) > 1)
    return out


def covers(question: str, text: str, share: float = 2 / 3) -> bool:
    """Whether ``text`` holds most (``share``) of the question's words, and at least two.

    A passage that says "Sigrun Moberg voting against on cost grounds" is about "Who
    voted against the extension and on what grounds?" however far its embedding sits
    from the question's (a long passage of minutes dilutes its vector); an off-topic
    question ("the best sourdough recipe") finds at most one of its words anywhere."""
    asked = set(tokenize(question))
    found = asked & set(tokenize(text))
    return len(found) >= 2 and len(found) >= share * len(asked)


class Bm25Index:
    """A bm25s index whose document ids are chunk positions in the store."""

    def __init__(self, model: bm25s.BM25, n_docs: int) -> None:
        self._model = model
        self.n_docs = n_docs

    @classmethod
    def build(cls, texts: list[str]) -> Bm25Index:
        model = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [tokenize(t) or ["<empty>"] for t in texts]
        # bm25s cannot index nothing; an empty collection holds a placeholder that
        # ``search`` never returns (n_docs stays 0)
        model.index(corpus or [["<empty>"]], show_progress=False)
        return cls(model, len(texts))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-``k`` (chunk position, BM25 score) with a positive score, best first;
        with ``mask`` (1 for a position to score, 0 for one to skip) among the masked-in
        positions only, the statistics staying the whole index's."""
        tokens = [t for t in tokenize(query) if t in self._model.vocab_dict]
        if not tokens or self.n_docs == 0:
            return []
        k = min(k, self.n_docs)
        if mask is not None:
            k = min(k, int(np.count_nonzero(mask)))
            if k == 0:
                return []
        ids, scores = self._model.retrieve(
            [tokens], k=k, show_progress=False, n_threads=1, weight_mask=mask
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every indexed term (lower-cased, as ``tokenize`` makes them); built once per
        loaded index, not per question."""
        return frozenset(self._model.vocab_dict)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._model.save(str(folder), show_progress=False)
        (folder / "n_docs.json").write_text(json.dumps({"n_docs": self.n_docs}))

    @classmethod
    def load(cls, folder: Path) -> Bm25Index:
        model = bm25s.BM25.load(str(folder), mmap=False)
        n_docs = json.loads((folder / "n_docs.json").read_text())["n_docs"]
        return cls(model, n_docs)
