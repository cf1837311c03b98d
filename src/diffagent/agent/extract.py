"""Getting a solution module out of a model's reply, fenced or not.

Replies wrap code in ```python fences, in bare ``` fences, in several fences (an explanation, then the module),
or in none, with prose before and after. The module is the candidate that defines both contract functions
(`load_pipeline`, `generate`); among fenced blocks the last such one wins (models put the final version last);
without fences, the longest run of lines from the first import/def that still parses.
"""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
CONTRACT = ("load_pipeline", "generate")
_STARTS = ("import ", "from ", "def ", "@", "class ", "#")


def defines_contract(source: str) -> bool:
    """Whether `source` parses and defines both contract functions at module level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return all(name in names for name in CONTRACT)


def _mentions_contract(source: str) -> bool:
    return all(re.search(rf"^def {name}\(", source, re.M) for name in CONTRACT)


def extract_module(reply: str) -> str | None:
    """The solution module in `reply`, or None when there is none. A block that mentions both functions but does
    not parse is still returned (the debugger's compile check reports it), so a syntax error is never mistaken
    for "no code"."""
    blocks = [body for lang, body in _FENCE.findall(reply) if lang.lower() in ("", "python", "py", "python3")]
    for body in reversed(blocks):
        if defines_contract(body):
            return body.strip() + "\n"
    for body in reversed(blocks):
        if _mentions_contract(body):
            return body.strip() + "\n"
    if defines_contract(reply):
        return reply.strip() + "\n"
    lines = reply.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(_STARTS)), None)
    if start is None:
        return None
    for end in range(len(lines), start, -1):
        candidate = "\n".join(lines[start:end])
        if defines_contract(candidate):
            return candidate.strip() + "\n"
    rest = "\n".join(lines[start:])
    return rest.strip() + "\n" if _mentions_contract(rest) else None
