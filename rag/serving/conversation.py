"""Multi-turn chat: which question to retrieve for, and how much history the model sees.

The caller (a chat bot) sends the whole conversation each time. Retrieval needs one
standalone query: a follow-up such as "who presented it?" names nothing to search for,
so it is searched together with the turn before it. This is a heuristic rather than an
LLM rewrite: on ``eval/chat.jsonl`` it retrieves as well as the LLM rewrite does and
costs nothing, where the rewrite adds seconds of prompt processing on a small CPU
(``bench/rewrite.py`` measures both).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rag.answer.generation import Generator, Message
from rag.errors import EmptyQuestion, InvalidQuery
from rag.grounding.citations import strip_markers

__all__ = [
    "ROLES",
    "Turn",
    "caller_instructions",
    "fit_history",
    "is_follow_up",
    "llm_rewrite",
    "standalone_query",
    "validate_question",
    "validate_turns",
]

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")

# Words that point back at something named earlier in the conversation.
_ANAPHORA = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|"
    r"there|same|former|latter|above|previous|first one|second one|last one|"
    r"the (?:talk|paper|system|tool|project|keynote|speaker|session|report|approach|method))\b",
    re.IGNORECASE,
)
_SHORT = 3  # a message with fewer content words than this cannot stand alone
_STOP = frozenset(
    "what which who whom whose when where why how does did do is are was were the a an of "
    "in on at to for and or by with from about as be been it its this that these those "
    "he she they them his her their and also tell me more please say said".split()
)


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, already reduced to plain text."""

    role: Role
    content: str


def validate_turns(turns: Sequence[Turn], max_chars: int) -> str:
    """The latest user message, or ``InvalidQuery`` saying what is wrong with ``turns``."""
    if not turns:
        raise InvalidQuery("messages must not be empty")
    total = sum(len(t.content) for t in turns)
    if total > max_chars:
        raise InvalidQuery(f"messages hold {total} characters in all; the limit is {max_chars}")
    for i, t in enumerate(turns):
        if t.role not in ROLES:
            raise InvalidQuery(f"message role {t.role!r} is not one of {', '.join(ROLES)}")
        try:
            t.content.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidQuery(f"message {i} is not valid Unicode text") from None
    last_user = [t for t in turns if t.role == "user"]
    if not last_user:
        raise InvalidQuery("messages must contain a user message")
    if turns[-1].role != "user":
        raise InvalidQuery("the last message must be the user's question")
    return turns[-1].content


_WORD = re.compile(r"[a-z0-9][a-z0-9\-+.%]*")


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def is_follow_up(message: str) -> bool:
    """Whether ``message`` leans on earlier turns: a pronoun or too few words of its own."""
    return bool(_ANAPHORA.search(message)) or len(_content_words(message)) < _SHORT


def standalone_query(turns: Sequence[Turn]) -> str:
    """The text to retrieve for: the latest user message, joined with the previous
    exchange when the message is a follow-up.

    The previous answer is included (its citation markers removed) because a follow-up
    may point at something only the answer named ("the second one").
    """
    users = [i for i, t in enumerate(turns) if t.role == "user"]
    if not users:
        return ""
    last = turns[users[-1]].content.strip()
    if len(users) < 2 or not is_follow_up(last):
        return last
    prev = users[-2]
    parts = [last, turns[prev].content.strip()]
    answers = [t.content for t in turns[prev + 1 : users[-1]] if t.role == "assistant"]
    if answers:
        parts.append(strip_markers(answers[-1]).strip())
    return "\n".join(p for p in parts if p)


_REWRITE_PROMPT = (
    "Rewrite the user's last question as one standalone question that names what it "
    "refers to, using the conversation. Reply with the question only."
)


def llm_rewrite(turns: Sequence[Turn], generator: Generator, max_tokens: int = 48) -> str:
    """The latest user message rewritten by the LLM into a standalone question.

    Kept for comparison with ``standalone_query`` (see ``bench/rewrite.py``); it costs
    a prompt of the whole recent history on every follow-up.
    """
    last = turns[-1].content.strip()
    if sum(t.role == "user" for t in turns) < 2:
        return last
    lines = [f"{t.role}: {strip_markers(t.content).strip()}" for t in turns[-5:-1]]
    user = "Conversation:\n" + "\n".join(lines) + f"\n\nLast question: {last}"
    messages = [{"role": "system", "content": _REWRITE_PROMPT}, {"role": "user", "content": user}]
    out = "".join(generator.stream(messages, max_tokens, 0.0, stop=["\n"])).strip()
    return out or last


def caller_instructions(turns: Sequence[Turn]) -> str:
    """The caller's system messages, joined: style and format requests only."""
    return "\n".join(t.content.strip() for t in turns if t.role == "system" and t.content.strip())


def fit_history(
    turns: Sequence[Turn], count_tokens: Callable[[str], int], budget: int
) -> list[Message]:
    """The most recent user/assistant turns before the last message that fit ``budget``
    tokens, oldest first, always starting with a user turn."""
    earlier = [t for t in turns[:-1] if t.role != "system"]
    kept: list[Message] = []
    used = 0
    for t in reversed(earlier):
        content = strip_markers(t.content).strip() if t.role == "assistant" else t.content
        n = count_tokens(content) + 4  # role header and separators
        if used + n > budget:
            break
        kept.append({"role": t.role, "content": content})
        used += n
    kept.reverse()
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept


def validate_question(question: object, max_chars: int) -> str:
    """The question stripped, or ``InvalidQuery`` saying what is wrong with it."""
    if not isinstance(question, str):
        raise InvalidQuery("question must be a string")
    q = question.strip()
    if not q:
        raise EmptyQuestion("question is empty")
    try:
        q.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuery(
            "question is not valid Unicode text (lone surrogate code points)"
        ) from None
    if len(q) > max_chars:
        raise InvalidQuery(f"question is {len(q)} characters; the limit is {max_chars}")
    return q
