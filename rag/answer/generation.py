"""Chat messages -> streamed answer text: the protocol, and one llama.cpp model per
process (``rag.answer.remote`` serves it from an OpenAI-compatible server instead).

llama.cpp contexts are not thread-safe, so every generation holds ``lock`` from its
first to its last token; callers run ``stream`` in a worker thread, off the event loop.
The prompt is rendered with the model's own chat template so that its token count
(``count_prompt_tokens``) is exactly what the model will process.
"""

from __future__ import annotations

import collections.abc
import threading
from pathlib import Path
from typing import Protocol

from rag.answer.selfcheck import build_info

__all__ = ["Generator", "LlamaGenerator", "Message", "TextStream", "repeating_tail"]

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}
TextStream = collections.abc.Generator[str, None, None]  # closing it stops generation


def repeating_tail(text: str, copies: int = 3, shortest: int = 12, longest: int = 200) -> int:
    """Length of the block ``text`` ends with ``copies`` times in a row (0 if none).

    Greedy decoding that starts repeating itself ("Moloco, Mosaic ML, Netflix,
    Moloco, Mosaic ML, Netflix, ...") never recovers: it runs to ``max_tokens``,
    spending seconds on text no one should read. Blocks shorter than ``shortest``
    characters are left alone ("- a\n- a\n" is too short to tell from a real list)."""
    for size in range(shortest, min(longest, len(text) // copies) + 1):
        block = text[-size:]
        if all(text[-(k + 1) * size : -k * size] == block for k in range(1, copies)):
            return size
    return 0


class Generator(Protocol):
    """What the pipeline needs from a language model: chat messages in, text pieces out,
    and the prompt's size in tokens (to fit the evidence to the context window).

    ``concurrency`` is how many generations it serves at once (a local model: one; a
    batching inference server: several), which sizes the admission queue."""

    name: str
    n_ctx: int
    concurrency: int

    def count_tokens(self, text: str) -> int: ...

    def count_prompt(self, messages: list[Message]) -> int: ...

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> TextStream: ...


class LlamaGenerator:
    """llama-cpp-python ``Llama`` on the CPU with a process-wide lock."""

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int = 2) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.name = model_path.name
        self.n_ctx = n_ctx
        self.concurrency = 1
        self.lock = threading.Lock()
        self.reused_tokens = 0  # prompt tokens the last generation took from the KV cache
        self.build = build_info()  # CPU features llama.cpp was built with, for /readyz
        self._llm = Llama(
            model_path=str(model_path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_batch=512,
            seed=0,
            verbose=False,
        )
        meta = self._llm.metadata
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise ValueError(f"{self.name} has no chat template in its metadata")
        vocab = self._llm._model  # token ids -> text for bos/eos
        eos = vocab.token_get_text(self._llm.token_eos())
        bos = vocab.token_get_text(self._llm.token_bos()) if self._llm.token_bos() >= 0 else ""
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self._stop = [eos]

    def _reusable(self, prompt: str) -> int:
        """Prompt tokens llama.cpp will not process again: the prefix this prompt shares
        with what its KV cache holds (the fixed system prompt, at least, when the prompt
        keeps it first). Measured, so the claim that the prefix is reused can be checked."""
        held = self._llm.input_ids[: self._llm.n_tokens].tolist()
        new = self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        n = 0
        for a, b in zip(held, new, strict=False):
            if a != b:
                break
            n += 1
        return n

    def render(self, messages: list[Message]) -> str:
        """The exact prompt string the model sees for ``messages``."""
        return str(self._formatter(messages=messages).prompt)  # type: ignore[arg-type]

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def count_prompt(self, messages: list[Message]) -> int:
        """Exactly the tokens the model will process for ``messages``."""
        return self.count_tokens(self.render(messages))

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> TextStream:
        """Yield answer text piece by piece (one token each).

        Closing the iterator early, or setting ``cancel`` from another thread (a client
        went away, a deadline passed), stops generation at the next token and frees the
        model for the next caller."""
        prompt = self.render(messages)
        with self.lock:
            self.reused_tokens = self._reusable(prompt)
            chunks = self._llm.create_completion(
                prompt,
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=1 if temperature == 0 else 40,
                stop=self._stop + (stop or []),
                stream=True,
            )
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        break
                    text = chunk["choices"][0]["text"]  # type: ignore[index]
                    yield text
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
