"""DiffAgent: an LLM agent that writes diffusion acceleration code (planner, coder, debugger, selector)."""

__version__ = "0.1.0"
