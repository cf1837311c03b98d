"""The language-model layer: one small interface over the official SDKs, with recording and replay.

Names are `provider/model` as Inspect AI writes them: `openai/MODEL` (any OpenAI-compatible server through
`--llm-base-url` or `OPENAI_BASE_URL`), `anthropic/MODEL`, and `replay/PATH` (re-serves a recorded run offline).
"""

from diffagent.llm.base import LLM, Completion, LLMError, Message
from diffagent.llm.registry import get_llm

__all__ = ["LLM", "Completion", "LLMError", "Message", "get_llm"]
