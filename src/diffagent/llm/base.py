"""The interface every model client implements, and what one exchange returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from diffbench.errors import RunAbort


class LLMError(RunAbort):
    """A model call that cannot succeed as asked: bad key, unknown model, unreachable endpoint, broken reply.
    A benchmark run stops on it (resumable), since the next task's call would fail alike."""


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    content: str


@dataclass
class Completion:
    """One exchange: the reply and what it cost."""

    text: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cost_usd: float | None = None
    extra: dict = field(default_factory=dict)


class LLM(Protocol):
    name: str

    def complete(
        self, messages: list[Message], system: str | None = None, temperature: float = 0.7, max_tokens: int = 4096
    ) -> Completion: ...
