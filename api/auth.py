"""API keys: when any are configured, every ``/v1`` route needs ``Authorization: Bearer
<key>`` (what OpenAI clients send). Keys are held as sha256 digests and compared in
constant time; they are never logged."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from fastapi import HTTPException, Request

from rag import ConfigError, Settings

__all__ = ["KeyRing", "require_key"]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    """The accepted keys' digests. A keys file holds one key per line, either plain or
    as ``sha256:<hex digest>`` (so the file need not hold the secret); ``#`` comments."""

    def __init__(self, digests: list[bytes]) -> None:
        self.digests = digests

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        digests = [_digest(k.strip()) for k in (settings.api_keys or "").split(",") if k.strip()]
        if settings.api_keys_file:
            path = settings.resolve(Path(settings.api_keys_file))
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigError(f"cannot read RAG_API_KEYS_FILE {path.name}: {exc}") from exc
            for line in (ln.strip() for ln in lines):
                if not line or line.startswith("#"):
                    continue
                if line.startswith("sha256:"):
                    try:
                        digests.append(bytes.fromhex(line.removeprefix("sha256:")))
                    except ValueError as exc:
                        raise ConfigError(f"{path.name}: bad sha256 line") from exc
                else:
                    digests.append(_digest(line))
        return cls(digests)

    @property
    def enabled(self) -> bool:
        return bool(self.digests)

    def accepts(self, key: str) -> bool:
        """Constant time in the key and the number of keys: every digest is compared."""
        given = _digest(key)
        ok = False
        for d in self.digests:
            ok |= hmac.compare_digest(given, d)
        return ok


def require_key(request: Request) -> None:
    """Dependency of the ``/v1`` routers: 401 unless keys are off or the key is valid."""
    ring: KeyRing = request.app.state.keys
    if not ring.enabled:
        return
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise HTTPException(
            401,
            "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not ring.accepts(key.strip()):
        raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
