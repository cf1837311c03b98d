"""Clients over the official SDKs: `openai` (and every OpenAI-compatible server) and `anthropic`.

Retries with exponential backoff on 429, 5xx, timeouts and dropped connections are the SDKs' own (`max_retries`);
what is left after them becomes one `LLMError` line that says what to fix. Keys come only from the environment
(OPENAI_API_KEY, ANTHROPIC_API_KEY); a local OpenAI-compatible server without keys gets a placeholder.
"""

from __future__ import annotations

import os
import time
from typing import Any

from diffagent.llm.base import Completion, LLMError, Message
from diffagent.llm.pricing import cost_usd

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_RETRIES = 3


def _explain(err: Exception, name: str, where: str) -> LLMError:
    """One line for a failed call, by the SDK's error class (both SDKs name them alike)."""
    kind = type(err).__name__
    status = getattr(err, "status_code", None)
    if kind == "AuthenticationError" or status in (401, 403):
        return LLMError(f"{name}: the endpoint {where} refused the API key (HTTP {status}); check the key variable")
    if kind == "NotFoundError" or status == 404:
        return LLMError(f"{name}: the endpoint {where} does not know this model (HTTP 404)")
    if kind == "APITimeoutError":
        return LLMError(f"{name}: no answer from {where} in time, after retries")
    if kind == "APIConnectionError":
        return LLMError(f"{name}: cannot reach {where} (connection failed after retries)")
    if kind == "RateLimitError" or status == 429:
        return LLMError(f"{name}: rate limited by {where} (HTTP 429) after retries")
    if status is not None:
        return LLMError(f"{name}: {where} answered HTTP {status} after retries")
    return LLMError(f"{name}: malformed reply from {where} ({kind}: {str(err)[:200]})")


class OpenAIChat:
    """`openai/MODEL`: Chat Completions through the official SDK, at `base_url` when given."""

    def __init__(
        self, model: str, base_url: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES, stream: bool = False,
    ) -> None:  # fmt: skip
        import openai

        self.sdk = openai
        self.name = f"openai/{model}"
        self.model = model
        self.stream = stream
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self.where = base_url or "api.openai.com"
        key = os.environ.get("OPENAI_API_KEY")
        if key is None and base_url is None:
            raise LLMError(f"{self.name}: set OPENAI_API_KEY (or --llm-base-url for a local server)")
        self.client = openai.OpenAI(
            api_key=key or "no-key-needed", base_url=base_url, timeout=timeout_s, max_retries=retries
        )

    def complete(
        self, messages: list[Message], system: str | None = None, temperature: float = 0.7, max_tokens: int = 4096
    ) -> Completion:
        chat = ([{"role": "system", "content": system}] if system else []) + [
            {"role": m.role, "content": m.content} for m in messages
        ]
        start = time.perf_counter()
        try:
            if self.stream:
                text, usage = self._streamed(chat, temperature, max_tokens)
            else:
                reply = self.client.chat.completions.create(
                    model=self.model, messages=chat, temperature=temperature, max_tokens=max_tokens
                )
                text = reply.choices[0].message.content
                usage = reply.usage
        except self.sdk.APIError as err:
            raise _explain(err, self.name, self.where) from None
        except (AttributeError, IndexError, TypeError) as err:  # a reply without the fields every reply has
            raise _explain(err, self.name, self.where) from None
        if not isinstance(text, str):
            raise LLMError(f"{self.name}: malformed reply from {self.where} (no message content)")
        tokens_in = getattr(usage, "prompt_tokens", 0) or 0
        tokens_out = getattr(usage, "completion_tokens", 0) or 0
        return Completion(
            text=text, model=self.name, tokens_in=tokens_in, tokens_out=tokens_out,
            latency_s=time.perf_counter() - start, cost_usd=cost_usd(self.name, tokens_in, tokens_out),
        )  # fmt: skip

    def _streamed(self, chat: list[dict], temperature: float, max_tokens: int) -> tuple[str, Any]:
        parts: list[str] = []
        usage = None
        stream = self.client.chat.completions.create(
            model=self.model, messages=chat, temperature=temperature, max_tokens=max_tokens, stream=True,
            stream_options={"include_usage": True},
        )  # fmt: skip
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                if choice.delta.content:
                    parts.append(choice.delta.content)
        return "".join(parts), usage


class AnthropicChat:
    """`anthropic/MODEL`: the Messages API through the official SDK."""

    def __init__(
        self, model: str, base_url: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES, stream: bool = False,
    ) -> None:  # fmt: skip
        import anthropic

        self.sdk = anthropic
        self.name = f"anthropic/{model}"
        self.model = model
        self.stream = stream
        self.where = base_url or os.environ.get("ANTHROPIC_BASE_URL") or "api.anthropic.com"
        key = os.environ.get("ANTHROPIC_API_KEY")
        if key is None:
            raise LLMError(f"{self.name}: set ANTHROPIC_API_KEY")
        self.client = anthropic.Anthropic(api_key=key, base_url=base_url, timeout=timeout_s, max_retries=retries)

    def complete(
        self, messages: list[Message], system: str | None = None, temperature: float = 0.7, max_tokens: int = 4096
    ) -> Completion:
        # The Messages API of this SDK (anthropic 2.x) takes no sampling parameters: temperature is not sent.
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }
        if system:
            kwargs["system"] = system
        start = time.perf_counter()
        try:
            if self.stream:
                with self.client.messages.stream(**kwargs) as stream:
                    reply = stream.get_final_message()
            else:
                reply = self.client.messages.create(**kwargs)
            text = "".join(block.text for block in reply.content if block.type == "text")
            tokens_in, tokens_out = reply.usage.input_tokens or 0, reply.usage.output_tokens or 0
        except self.sdk.APIError as err:
            raise _explain(err, self.name, self.where) from None
        except (AttributeError, IndexError, TypeError) as err:  # a reply without the fields every reply has
            raise _explain(err, self.name, self.where) from None
        return Completion(
            text=text, model=self.name, tokens_in=tokens_in, tokens_out=tokens_out,
            latency_s=time.perf_counter() - start, cost_usd=cost_usd(self.name, tokens_in, tokens_out),
        )  # fmt: skip
