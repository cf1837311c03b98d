"""The agent's roles (planner, coder, debugger, selector) and what they share."""
