"""DiffBench: a benchmark for LLM-written diffusion acceleration code."""

__version__ = "0.1.0"
