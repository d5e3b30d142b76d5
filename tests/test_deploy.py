"""deploy/ stays in step with the code: every setting it passes exists, every command
it runs is one ``rag`` has, and the proxy streams. (Starting the stack needs a
container runtime; this checks what can drift without one.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from rag import Settings
from rag.cli import app

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_each_role_and_only_real_settings():
    compose = _compose()
    assert {"qdrant", "llm", "indexer", "api", "proxy"} <= set(compose["services"])
    names = set(re.findall(r"\bRAG_[A-Z0-9_]+", (DEPLOY / "compose.yaml").read_text()))
    names |= set(re.findall(r"\bRAG_[A-Z0-9_]+", (DEPLOY / "Dockerfile").read_text()))
    fields = {"RAG_" + f.upper() for f in Settings.model_fields} | {"RAG_HOME"}  # data root
    assert names and names <= fields, names - fields
    # compose fills ${NAME:-default} from the shell: qdrant unless RAG_VECTOR_STORE is set
    api = {
        k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(v))
        for k, v in compose["services"]["api"]["environment"].items()
    }
    assert api["RAG_VECTOR_STORE"] == "qdrant" and api["RAG_LLM_URL"].startswith("http://llm:")
    Settings(**{k[4:].lower(): v for k, v in api.items()})  # values the settings accept
    Settings(**{k[4:].lower(): v for k, v in api.items()} | {"vector_store": "postgres"})
    # the Postgres alternative: its server and the one-shot schema step, in their profile
    services = compose["services"]
    assert services["postgres"]["profiles"] == services["dbinit"]["profiles"] == ["postgres"]
    assert services["dbinit"]["command"] == ["rag", "db", "init"]
    assert (
        api["RAG_DATABASE_URL"].startswith("postgresql://")
        and "@postgres:" in api["RAG_DATABASE_URL"]
    )


def test_the_commands_it_runs_exist():
    runner = CliRunner()
    for args in (
        ["index", "--help"],
        ["serve", "--help"],
        ["models", "--help"],
        ["db", "init", "--help"],
    ):
        assert runner.invoke(app, args).exit_code == 0, args
    assert "--path" in runner.invoke(app, ["models", "--help"]).output


def test_the_proxy_streams_and_allows_uploads():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_buffering off" in conf  # answers are server-sent events
    size = int(re.search(r"client_max_body_size (\d+)m", conf).group(1))
    assert size * 2**20 > Settings().max_upload_bytes
