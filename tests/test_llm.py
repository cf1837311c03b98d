"""The LLM layer against a fake server on 127.0.0.1: both wire formats, JSON and streaming, retries on 429 and
500, timeouts, malformed replies, bad keys, unknown models, unreachable endpoints; recording and replay."""

from __future__ import annotations

import json
import socket

import pytest

from diffagent.llm import LLMError, Message, get_llm
from diffagent.llm.recording import RecordingLLM
from fake_llm_server import FakeLLMServer

ASK = [Message("user", "write the code")]


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def client(provider: str, server: FakeLLMServer, **kw):
    base = server.url + ("/v1" if provider == "openai" else "")
    return get_llm(f"{provider}/fake-model", base_url=base, timeout_s=kw.pop("timeout_s", 5.0), **kw)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_reply_comes_back_with_its_tokens(provider, stream):
    with FakeLLMServer([("reply", "def load_pipeline(device):\n    return None\n")]) as server:
        reply = client(provider, server, stream=stream).complete(ASK, system="you write code")
    assert reply.text.startswith("def load_pipeline")
    assert reply.tokens_in > 0 and reply.tokens_out > 0 and reply.latency_s > 0
    assert reply.model == f"{provider}/fake-model"
    body = server.requests[0]
    assert body["model"] == "fake-model" and bool(body.get("stream")) == stream
    assert server.paths[0].endswith("/chat/completions" if provider == "openai" else "/messages")


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_429_and_500_are_retried(provider):
    with FakeLLMServer([("status", 429), ("status", 500), ("reply", "ok")]) as server:
        reply = client(provider, server, retries=3).complete(ASK)
    assert reply.text == "ok" and len(server.requests) == 3


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_retries_run_out_with_one_clear_line(provider):
    with FakeLLMServer([("status", 500)] * 3) as server, pytest.raises(LLMError, match="HTTP 500 after retries"):
        client(provider, server, retries=1).complete(ASK)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_timeout_is_retried_then_reported(provider):
    with FakeLLMServer([("sleep", 2.0), ("reply", "late")]) as server, pytest.raises(LLMError, match="in time"):
        client(provider, server, retries=0, timeout_s=0.5).complete(ASK)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize(("status", "words"), [(401, "API key"), (404, "does not know this model")])
def test_bad_key_and_unknown_model(provider, status, words):
    with FakeLLMServer([("status", status)]) as server, pytest.raises(LLMError, match=words):
        client(provider, server, retries=0).complete(ASK)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_malformed_reply_is_an_error_not_a_crash(provider):
    with FakeLLMServer([("malformed", None)]) as server, pytest.raises(LLMError, match="malformed"):
        client(provider, server, retries=0).complete(ASK)


def test_an_unreachable_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    llm = get_llm("openai/fake-model", base_url=f"http://127.0.0.1:{port}/v1", retries=0, timeout_s=2)
    with pytest.raises(LLMError, match="cannot reach"):
        llm.complete(ASK)


def test_names_and_keys(monkeypatch):
    with pytest.raises(LLMError, match="unknown model name"):
        get_llm("gpt-4o")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(LLMError, match="ANTHROPIC_API_KEY"):
        get_llm("anthropic/claude")


def test_recorded_exchanges_replay_offline(tmp_path):
    log = tmp_path / "llm.jsonl"
    prompts = [[Message("user", "first")], [Message("user", "second")]]
    with FakeLLMServer([("reply", "one"), ("reply", "two")]) as server:
        recorder = RecordingLLM(client("openai", server), log)
        live = [recorder.complete(p, system="s").text for p in prompts]
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["reply"] for e in entries] == ["one", "two"] and entries[0]["tokens_in"] > 0
    replay = get_llm(f"replay/{log}")
    assert [replay.complete(p, system="s").text for p in prompts] == live
    with pytest.raises(LLMError, match="only 2 exchanges"):
        replay.complete(prompts[0], system="s")
    with pytest.raises(LLMError, match="different prompt"):
        get_llm(f"replay/{log}").complete([Message("user", "changed")], system="s")
