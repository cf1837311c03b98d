"""The static parser: key attributes of a solution module from its source, without running it."""

from diffbench.evaluation.static.extract import StaticResult, analyze

__all__ = ["StaticResult", "analyze"]
