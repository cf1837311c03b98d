"""Prices per million tokens (input, output) in USD for models whose price we know; others cost None.

Prices change; this table is what the providers published when it was written, for auditing a run's order of
magnitude, not for billing.
"""

from __future__ import annotations

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "openai/gpt-4o": (2.50, 10.00),
    "openai/gpt-4o-mini": (0.15, 0.60),
    "openai/gpt-4.1": (2.00, 8.00),
    "openai/gpt-4.1-mini": (0.40, 1.60),
    "anthropic/claude-3-5-sonnet-latest": (3.00, 15.00),
    "anthropic/claude-3-5-haiku-latest": (0.80, 4.00),
}


def cost_usd(name: str, tokens_in: int, tokens_out: int) -> float | None:
    price = PRICES_PER_MTOK.get(name)
    if price is None:
        return None
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000
