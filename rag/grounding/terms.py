"""Names and figures in text, and whether a passage states them.

The grounding rules all come down to "does this passage say this name or this
figure?", asked of text written by different hands: a report writes "1,450" or
"3×" or "two", an answer "1450", "3x", "2". Matching is whole-word, case- and
separator-insensitive ("right-shift" = "right shift"), tolerant of a plural -s, and
works on figures normalised by ``normalize_figures``.
"""

from __future__ import annotations

import re
import unicodedata

from rag.grounding.tables import header_index, table_cells

__all__ = [
    "CLAUSE_BREAK",
    "DATE",
    "FIGURE",
    "LIST_ITEM",
    "acronym",
    "contains_term",
    "dotless",
    "fold_figures",
    "fold_percent",
    "key_terms",
    "lead_in",
    "link_terms",
    "name_phrases",
    "near_spelling",
    "normalize_figures",
    "number_digits",
    "searchable",
    "spells_out",
    "squash",
    "term_key",
    "term_pattern",
    "written_as_name",
]

_WORD = re.compile(r"\w[\w.%'’×-]*")
_TAGS = re.compile(r"<[^>]+>")
# Capitalised words that start questions, sentences and clauses without naming anything.
_NOT_KEY = frozenset(
    "What Which Who How Why When Where The This That These Those It They In On At For And Or "
    "But If Yes No A An As By From To Of With Is Are Was Were Do Does Did Can Could Please "
    "Also Both Each Give List Name Tell Describe Explain Compare Summarize Summarise According "
    "He She We You I There Their His Her Its Our My One Some Many Most All Any Several "
    "However Overall Additionally Furthermore Moreover Finally First Second Third Then Thus "
    "Instead Therefore Also Here Since While Although After Before During Unlike Like "
    "Other Another Such Each Every Only Not Neither Either Based Using Rather Into Under "
    "Over Between Among Within Without Beyond Besides Given Compared Apart Across Along "
    "Around Behind Below Above Near Per Via Through Toward Towards Upon Regarding "
    "Following Including Except Despite Unless Until Whereas Whether Whose Whom Together "
    "Later Now Today Yet Still Even Just Then Next Last Note See Yes".split()
)
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}


def dotless(text: str) -> str:
    """``text`` with the dotted capital I ("İpek Şener") as I: lower-cased, "İ" becomes
    "i" plus a combining dot, which splits the word in two for every word pattern
    ("lkay"), so the name matched nothing, not even itself."""
    return text.replace("İ", "I")


_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# "7 %", "7%", "7 percent" and "7 per cent" are one figure
_PERCENT = re.compile(r"(?<=\d)\s*(?:%|per\s*cent\b|percent\b)", re.IGNORECASE)


def fold_percent(text: str) -> str:
    """Percentages written one way, "7%": an answer's "grew by 7%" is the passage's "up
    7 % on the previous year"."""
    return _PERCENT.sub("%", text)


def fold_figures(text: str) -> str:
    """Figures written with digits in one spelling: "1,450" -> "1450", "3×" -> "3x",
    "40 percent" -> "40%", compatibility forms folded (NFKC: full-width digits), and a
    dotted capital I as I (``dotless``)."""
    text = dotless(unicodedata.normalize("NFKC", text))
    return fold_percent(_THOUSANDS.sub("", text).replace("×", "x"))


def normalize_figures(text: str) -> str:
    """``fold_figures`` and number words as digits ("two" -> "2"): for matching a figure
    however it is written. (Which figures a text *states* is read from its digits
    alone: "one DNN" states no figure.)"""
    return number_digits(fold_figures(text))


def number_digits(text: str) -> str:
    """Number words as digits, nothing else changed: "Two of the 12" -> "2 of the 12"."""
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)


def squash(text: str) -> str:
    """Lower-case alphanumerics only: "Right-Shift", "right shift" -> "rightshift"."""
    return re.sub(r"[^\w%]+|_", "", normalize_figures(_TAGS.sub("", text)).lower())


# A magnitude after a figure, however abbreviated: "€1.16m" is "€1.16 million"
_MAGNITUDES = {
    word: pattern
    for pattern, words in (
        (r"(?:million|mn|m)", ("million", "mn", "m")),
        (r"(?:billion|bn)", ("billion", "bn")),
    )
    for word in words
}


def term_pattern(term: str) -> str:
    """Regex for ``term`` as whole words: case-, separator- and plural-insensitive,
    digits and letters split ("300GB" = "300 GB", "98%" = "98+%"), a figure's
    magnitude in any of its spellings ("1.16m" = "1.16 million", "2bn" = "2 billion")."""
    parts = re.findall(r"[^\W\d_]+|[0-9]+(?:[.,][0-9]+)*|%", normalize_figures(term).lower())
    if not parts:
        return ""
    last = parts[-1]
    if len(last) > 3 and last.endswith("s") and not last.endswith("ss") and last[-2].isalpha():
        parts[-1] = last[:-1]
    pieces = [
        _MAGNITUDES[p] if i and p in _MAGNITUDES and parts[i - 1][0].isdigit() else re.escape(p)
        for i, p in enumerate(parts)
    ]
    body = r"[\s_./,’'+-]*".join(pieces)
    plural = r"(?:e?s)?" if len(parts[-1]) >= 3 else ""
    return rf"(?<![^\W_]){body}{plural}(?![^\W_])"


# "€1.16m": a magnitude written onto its figure, split off so that "1.16" is found
_ATTACHED_MAGNITUDE = re.compile(r"(?<=\d)(mn|bn|m)(?![^\W_])")


def searchable(text: str) -> str:
    return _ATTACHED_MAGNITUDE.sub(r" \1", normalize_figures(_TAGS.sub("", text)).lower())


_GLUE = frozenset("of and for the in on to a an".split())  # "Bureau of Labor Statistics"


def acronym(term: str, shortest: int = 2, longest: int = 6) -> str:
    """The letters of ``term`` when it is an acronym ("DSL", "GPUs" -> "GPU") of
    ``shortest`` to ``longest`` capitals, else ""."""
    m = re.fullmatch(rf"([A-Z]{{{shortest},{longest}}})s?", term)
    return m.group(1) if m else ""


def spells_out(haystack: str, term: str) -> bool:
    """Whether ``haystack`` writes acronym ``term`` out: consecutive words (hyphen
    parts count as words, "of"/"and"/"the" may sit between) whose initials spell it.
    A report says "Domain-specific language" where a question says "DSL"; both name
    the same thing."""
    letters = acronym(term, 3, 6).lower()
    if not letters:
        return False
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", _TAGS.sub(" ", haystack))]
    for i, first in enumerate(words):
        if first[0] != letters[0] or first in _GLUE:
            continue
        k, j = 1, i + 1
        while k < len(letters) and j < len(words):
            if words[j][0] == letters[k] and words[j] not in _GLUE:
                k += 1
            elif words[j] not in _GLUE:
                break
            j += 1
        if k == len(letters):
            return True
    return False


def contains_term(haystack: str, term: str) -> bool:
    """Whether ``term`` occurs in ``haystack`` as a whole word, ignoring case, HTML tags,
    separators inside the term ("right shift" = "right-shift"), a plural -s and the
    spelling of figures ("1,450" = "1450", "two" = "2")."""
    pattern = term_pattern(term)
    return not pattern or re.search(pattern, searchable(haystack)) is not None


# Lower-case second halves that make a hyphenated word an adjective of the name before
# them: "Spark-like", "GPU-based". The name is the term to look for.
_MODIFIERS = frozenset(
    "like based style aware specific driven oriented friendly level scale sized class "
    "wide only free bound native centric powered enabled compatible".split()
)


def key_terms(text: str) -> list[str]:
    """Numbers and names in ``text`` that a supporting passage must also contain:
    tokens with a digit, with two capitals (acronyms, CamelCase), or capitalised and
    not a word that commonly opens a sentence ("The", "However"). The text's first
    word counts when it looks like a name there: possessive ("Ricasso's p50 is ...")
    or followed by another capitalised word ("Chloë Mercière"; not an acronym or code:
    "Refurbishing QC-1 costs ..." opens with a verb). "Spark-like" yields "Spark"."""
    return [tok for tok, _ in _key_words(fold_figures(text))]


def name_phrases(text: str) -> list[str]:
    """The names of ``text`` whole: runs of its key terms (``key_terms``) with only
    spaces or a name's own punctuation between them ("Dr. Nicolás Ó Baoill", "Mobile
    Harbour"), figures left out."""
    text = fold_figures(text)
    runs: list[list[re.Match[str]]] = []
    end = -1
    for tok, m in _key_words(text):
        if squash(tok).isdigit():  # "2021", "3.5": figures, not names
            end = -1
            continue
        if runs and end >= 0 and re.fullmatch(r"[\s.]*", text[end : m.start()]):
            runs[-1].append(m)
        else:
            runs.append([m])
        end = m.end()
    return [text[r[0].start() : r[-1].end()].rstrip(".") for r in runs]


# The one figure pattern: digits with their thousands and decimal separators, never
# ending in one ("1,450", "3.53", "2"; not the full stop after "2.")
FIGURE = r"\d(?:[\d,.]*\d)?"

# where a sentence's clauses part, each saying something of its own: not at the comma
# of "3,420"
CLAUSE_BREAK = re.compile(r"[;:()]|,(?!\d)|\b(?:which|while|whereas|but|although)\b", re.IGNORECASE)

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# a day of a month, "9 March" or "March 9": a date, not a figure or a name
DATE = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})|(?:{_MONTHS})\s+\d{{1,2}})\b")


# a route, ship or cruise code: letters and digits in one short token ("Z7", "RV14")
_CODE = re.compile(r"(?=[\w-]*\d)(?=[\w-]*[^\W\d_])[\w-]{2,8}")


def link_terms(text: str) -> list[str]:
    """What can tie ``text`` to another report: its names of two or more words
    ("Bożena Wiśniewska", "RV Puffinor"), its codes ("Z7", "RV14") and its dates
    ("18 July"). Two reports of one organisation meet in a person, a route, a ship or a
    day; a bare figure ties nothing (every report has a 12), nor does one capitalised
    word ("Present:", "City"), which may open a sentence or label a field, nor a lone
    acronym or product name ("AI", "PyTorch"), which half the reports of a field use."""
    names = [
        n
        for n in name_phrases(DATE.sub(";", text))  # "9 March Inès Valtonen": two terms
        if len(n.split()) >= 2 or _CODE.fullmatch(n)
    ]
    return list(dict.fromkeys([*names, *DATE.findall(text)]))


def written_as_name(haystack: str, phrase: str) -> bool:
    """Whether ``haystack`` writes ``phrase`` with its capitals (punctuation and spacing
    between its words aside): a name is written as one where it is named, and "Mobile
    harbour", a crane type in a table, does not name a manufacturer "Mobile Harbour"."""
    words = re.findall(r"[^\W_]+", phrase)
    pattern = r"[\W_]+".join(re.escape(w) for w in words)
    return (
        bool(words)
        and re.search(rf"(?<![^\W_]){pattern}(?![^\W_])", fold_figures(haystack)) is not None
    )


def _key_words(text: str) -> list[tuple[str, re.Match[str]]]:
    """``key_terms`` of ``text`` (already folded) with the word each was read from."""
    out = []
    words = list(_WORD.finditer(text))
    for i, m in enumerate(words):
        raw = m.group(0)
        tok = re.sub(r"['’]s$", "", raw).strip(".-'’")
        head, _, tail = tok.rpartition("-")
        if head and (tail.lower() in _MODIFIERS or (tail.isalpha() and tail.islower())):
            tok = head  # "Spark-like", "RL-trained": the name is the head
        if not tok or not squash(tok):
            continue
        upper = sum(ch.isupper() for ch in tok)
        if any(ch.isdigit() for ch in tok) or upper >= 2:
            out.append((tok, m))
        elif tok[0].isupper() and tok not in _NOT_KEY and not tok.endswith("ly"):
            # the text's first word is capitalised anyway: a name only when it looks
            # like one there ("Ricasso's p50", "Chloë Mercière said"), not "Best recipe"
            nxt = words[i + 1].group(0) if i + 1 < len(words) else ""
            if i > 0 or raw != tok or (nxt[:1].isupper() and nxt[1:2].islower()):
                out.append((tok, m))
    return out


def near_spelling(a: str, b: str) -> bool:
    """One typo apart (a letter changed, added, dropped, or two swapped), for words of
    five letters or more: reports have typos ("latnecy") that answers correct."""
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1 or a[0] != b[0]:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = sorted((a, b), key=len)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1 :]


# a list item's marker: a bullet, or a number or letter with "." or ")" ("(c)", "2.")
LIST_ITEM = re.compile(r"\s*(?:[-*•]|\(?[0-9a-zA-Z]{1,2}[.)])\s+")


def lead_in(text: str, start: int) -> str:
    """The line ending in ":" that introduces the list item at ``start`` of ``text``
    ("The steering group's members were:" over "(c) Dr İpek Şener, representing ...");
    "" when ``start`` is not in a list item or nothing introduces its list. An item is
    about what its lead-in says, as a table row is about its column labels: a row's
    lead-in is its table's first row."""
    lines = text[: text.rfind("\n", 0, start) + 1].splitlines()
    own = text[text.rfind("\n", 0, start) + 1 :].split("\n", 1)[0]
    if table_cells(own) is not None:
        head = header_index([*lines, own], len(lines))
        return lines[head] if head is not None and head < len(lines) else ""
    if not LIST_ITEM.match(own):
        return ""
    for line in reversed(lines):
        if not line.strip() or LIST_ITEM.match(line):
            continue
        return line if line.rstrip().endswith(":") else ""
    return ""


def term_key(term: str) -> str:
    return re.sub(r"[^\w%]+|_", "", normalize_figures(term).lower())
