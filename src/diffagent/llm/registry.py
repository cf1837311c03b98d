"""`provider/model` names to clients."""

from __future__ import annotations

from pathlib import Path

from diffagent.llm.base import LLM, LLMError

PROVIDERS = ("openai", "anthropic", "replay")


def get_llm(
    name: str, base_url: str | None = None, stream: bool = False, retries: int = 3, timeout_s: float = 120.0
) -> LLM:
    provider, _, model = name.partition("/")
    if not model or provider not in PROVIDERS:
        raise LLMError(f"unknown model name {name!r}: use openai/MODEL, anthropic/MODEL or replay/PATH")
    if provider == "replay":
        from diffagent.llm.recording import ReplayLLM

        return ReplayLLM(Path(model))
    from diffagent.llm.clients import AnthropicChat, OpenAIChat

    cls = OpenAIChat if provider == "openai" else AnthropicChat
    return cls(model, base_url=base_url, timeout_s=timeout_s, retries=retries, stream=stream)
