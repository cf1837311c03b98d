"""Every exchange recorded as one JSON line (prompt, reply, tokens, latency, cost), and replayed offline.

`RecordingLLM` wraps any client and appends to a JSONL file; `ReplayLLM` (`replay/PATH`) serves the recorded
replies in order and refuses a prompt that differs from the recorded one, so a replayed run is the same run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from diffagent.llm.base import LLM, Completion, LLMError, Message


def prompt_hash(messages: list[Message], system: str | None) -> str:
    blob = json.dumps([system, [asdict(m) for m in messages]], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class RecordingLLM:
    def __init__(self, inner: LLM, path: Path, on_exchange: Callable[[dict], None] | None = None) -> None:
        self.inner = inner
        self.on_exchange = on_exchange
        self.name = inner.name
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.calls = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.cost_usd: float | None = None  # None until a call has a known price

    def complete(
        self, messages: list[Message], system: str | None = None, temperature: float = 0.7, max_tokens: int = 4096
    ) -> Completion:
        reply = self.inner.complete(messages, system, temperature, max_tokens)
        entry = {
            "model": reply.model,
            "prompt_hash": prompt_hash(messages, system),
            "system": system,
            "messages": [asdict(m) for m in messages],
            "reply": reply.text,
            "tokens_in": reply.tokens_in,
            "tokens_out": reply.tokens_out,
            "latency_s": round(reply.latency_s, 4),
            "cost_usd": reply.cost_usd,
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        if self.on_exchange:
            self.on_exchange(entry)
        self.calls += 1
        self.tokens_in += reply.tokens_in
        self.tokens_out += reply.tokens_out
        if reply.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + reply.cost_usd
        return reply


class ReplayLLM:
    """`replay/PATH`: the recorded replies, in order, for the same prompts."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise LLMError(f"replay/{path}: no such recording")
        self.path = path
        self.entries = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                self.entries.append(json.loads(line))
            except json.JSONDecodeError:
                raise LLMError(f"replay/{path}: line {number} is not JSON") from None
        self.name = f"replay/{path}"
        self.position = 0

    def complete(
        self, messages: list[Message], system: str | None = None, temperature: float = 0.7, max_tokens: int = 4096
    ) -> Completion:
        if self.position >= len(self.entries):
            raise LLMError(f"{self.name}: the recording has only {len(self.entries)} exchanges")
        entry = self.entries[self.position]
        if entry["prompt_hash"] != prompt_hash(messages, system):
            raise LLMError(f"{self.name}: exchange {self.position + 1} was recorded for a different prompt")
        self.position += 1
        return Completion(
            text=entry["reply"], model=entry["model"], tokens_in=entry["tokens_in"], tokens_out=entry["tokens_out"],
            latency_s=0.0, cost_usd=None, extra={"replayed": True},
        )  # fmt: skip
