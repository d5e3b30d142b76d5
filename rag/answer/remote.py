"""A language model behind an OpenAI-compatible server (llama.cpp's ``llama-server``,
``llama_cpp.server``, vLLM): chat messages in, streamed text out.

- Connection failures before the answer starts are retried with exponential backoff;
  a failure after it started ends the answer (``ModelUnavailable``), never repeats it.
- The server's 429/503 becomes ``Busy`` with its ``Retry-After``, so our callers get a
  503 they can retry, not a 500.
- Closing the stream (the caller went away) or setting ``cancel`` closes the upstream
  request, which stops the server's generation.
- Prompt size: the server's own tokenizer (``/tokenize`` of llama-server and vLLM,
  ``/extras/tokenize`` of llama_cpp.server) counts the messages' text, plus a fixed
  allowance per message for the chat template's role markers; without a tokenize
  endpoint, a conservative characters-per-token estimate.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from functools import lru_cache
from typing import Any

import httpx

from rag.answer.generation import Message, TextStream
from rag.errors import Busy, ModelUnavailable

__all__ = ["RemoteGenerator"]

log = logging.getLogger(__name__)

_PER_MESSAGE = 8  # chat template tokens around each message ("<|im_start|>user\n" ...)
_PER_PROMPT = 8  # the assistant cue and any BOS
_CHARS_PER_TOKEN = 2.5  # estimate without a tokenizer: errs towards more tokens


class RemoteGenerator:
    """``Generator`` over an OpenAI-compatible ``base_url`` (ending in ``/v1``)."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        n_ctx: int = 4096,
        concurrency: int = 4,
        timeout_s: float = 120.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        api_key: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.n_ctx = n_ctx
        self.concurrency = concurrency
        self.retries = retries
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)), headers=headers
        )
        self.name = model or self._served_model()
        self._tokenize = self._find_tokenizer()

    # ---- requests ----------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, retried with backoff while the server cannot be reached."""
        for attempt in range(self.retries + 1):
            try:
                response = self._client.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                if attempt == self.retries:
                    raise ModelUnavailable(
                        f"model server {self.base_url} unreachable: {exc}"
                    ) from exc
                time.sleep(self.backoff_s * 2**attempt)
                continue
            _raise_for_status(response)
            return response
        raise AssertionError("unreachable")

    def _served_model(self) -> str:
        data = self._send("GET", f"{self.base_url}/models").json().get("data") or []
        if not data:
            raise ModelUnavailable(f"model server {self.base_url} lists no model")
        return str(data[0]["id"])

    def _find_tokenizer(self) -> str | None:
        """The server's tokenize endpoint, if it has one."""
        root = self.base_url.removesuffix("/v1")
        for url in (f"{root}/tokenize", f"{root}/extras/tokenize"):
            try:
                r = self._client.post(url, json=_tokenize_body("probe", self.name))
            except httpx.HTTPError:
                continue
            if r.status_code == 200 and isinstance(r.json().get("tokens"), list):
                return url
        log.warning("%s has no tokenize endpoint: prompt sizes are estimated", self.base_url)
        return None

    # ---- Generator -----------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    @lru_cache(maxsize=4096)  # noqa: B019 - one generator per process; texts repeat
    def _count(self, text: str) -> int:
        if not text:
            return 0
        if self._tokenize is None:
            return math.ceil(len(text) / _CHARS_PER_TOKEN)
        r = self._send("POST", self._tokenize, json=_tokenize_body(text, self.name))
        return len(r.json()["tokens"])

    def count_prompt(self, messages: list[Message]) -> int:
        """The prompt's tokens: its texts counted by the server's tokenizer, plus the
        chat template's markers (an upper bound the tests check against the server's
        own usage figures)."""
        return _PER_PROMPT + sum(_PER_MESSAGE + self.count_tokens(m["content"]) for m in messages)

    def stream(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> TextStream:
        """Yield the answer's text pieces as the server streams them."""
        body: dict[str, Any] = {
            "model": self.name,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if stop:
            body["stop"] = stop
        if temperature == 0:
            # greedy with no repetition penalty, as the local model decodes: the same
            # prompt then gives the same answer on any llama.cpp-based server
            # (llama_cpp.server defaults to a 1.1 penalty; vLLM spells it differently)
            body.update(top_k=1, repeat_penalty=1.0, repetition_penalty=1.0)
        url = f"{self.base_url}/chat/completions"
        for attempt in range(self.retries + 1):
            try:
                with self._client.stream("POST", url, json=body) as response:
                    _raise_for_status(response)
                    yield from _pieces(response, cancel)
                return  # leaving the block closes the upstream request
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt == self.retries:
                    raise ModelUnavailable(
                        f"model server {self.base_url} unreachable: {exc}"
                    ) from exc
                time.sleep(self.backoff_s * 2**attempt)
            except (httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                raise ModelUnavailable(
                    f"model server {self.base_url} failed mid-answer: {exc}"
                ) from exc

    def close(self) -> None:
        self._client.close()


def _pieces(response: httpx.Response, cancel: threading.Event | None) -> TextStream:
    for line in response.iter_lines():
        if cancel is not None and cancel.is_set():
            return
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        event = json.loads(data)
        if "error" in event:
            raise ModelUnavailable(f"model server error: {event['error']}")
        choices = event.get("choices") or [{}]
        text = (choices[0].get("delta") or {}).get("content")
        if text:
            yield text


def _tokenize_body(text: str, model: str) -> dict[str, Any]:
    # llama-server reads "content", vLLM "prompt", llama_cpp.server "input"
    return {"content": text, "prompt": text, "input": text, "model": model}


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    response.read()
    detail = response.text[:300]
    if response.status_code in (429, 503):
        retry = response.headers.get("retry-after", "")
        seconds = int(retry) if retry.isdigit() else 5
        raise Busy(f"the model server is busy ({response.status_code}): retry later", seconds)
    raise ModelUnavailable(f"model server answered {response.status_code}: {detail}")
