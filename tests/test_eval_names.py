"""No rule, comment or test names an eval item: a check written around an eval
question's names is a fit to that question, and a test on its text is no test of
generality. The names are read from the eval documents by program (nobody lists
them), and every module of ``rag`` and every test is searched for them.

A name here is a run of capitalised words, a letters-and-digits code ("AB12"), a run of
Chinese characters, or a
capitalised word the eval documents and the seeds never write in lower case (so not
"Introduction" or a month). The seed reports are the service's own corpus and are
not searched for: tests over the seeds name what the seeds say.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_RUN = re.compile(r"\b[A-ZÀ-Þ][a-zß-ÿā-ž]+(?:[ -][A-ZÀ-Þ][a-zß-ÿā-ž]+)+\b")
_CODE = re.compile(r"\b[A-Z]{1,4}-?\d{1,4}\b")
_HAN = re.compile(r"[\u4e00-\u9fff]{2,}")  # a name in Chinese characters
_WORD = re.compile(r"\b[A-ZÀ-ÞĀ-Ž][a-zß-ÿā-ž]{3,}\b")
# generic words the eval documents happen to write only capitalised
_GENERIC = frozenset(
    "Install Known Name Introduction Governance Sciences Labs Attendees Ridership Ocean "
    "Pier Rewrite".split()
)
# generic headings and protocol names that are runs of capitalised words
_GENERIC_RUNS = frozenset({"Open Questions", "Retry-After"})


def _eval_texts() -> str:
    from rag.ingest.loaders import load_document

    texts = []
    for path in sorted(ROOT.glob("eval/*/docs/*")):
        if path.is_file():
            texts.append(load_document(path.name, path.read_bytes()).text)
    return "\n".join(texts)


def eval_names() -> set[str]:
    text = _eval_texts()
    seeds = "\n".join(p.read_text(encoding="utf-8") for p in ROOT.glob("seeds/*.txt"))
    lower = set(re.findall(r"[a-zß-ÿā-ž]+", text + "\n" + seeds))
    names = {m for m in _RUN.findall(text) if m not in seeds and m not in _GENERIC_RUNS}
    names |= set(_HAN.findall(text))
    names |= {m for m in _CODE.findall(text) if m not in seeds and not m.startswith("H")}
    names |= {
        w
        for w in _WORD.findall(text)
        if w.lower() not in lower and w not in _GENERIC and w not in seeds
    }
    months = "January February March April May June July August September October November"
    return names - set(months.split()) - {"December"}


def test_no_module_or_test_names_an_eval_item():
    names = eval_names()
    assert len(names) > 100  # the documents were read
    found = {}
    for path in [*ROOT.glob("rag/**/*.py"), *ROOT.glob("api/**/*.py"), *ROOT.glob("tests/*.py")]:
        text = path.read_text(encoding="utf-8")
        hits = sorted(n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert not found, f"eval names in code or tests: {found}"
