"""Code extraction from model replies: fences of every kind, several blocks, none, broken code, no code."""

from __future__ import annotations

import pytest

from diffagent.agent.extract import defines_contract, extract_module

MODULE = """import torch


def load_pipeline(device):
    return device


def generate(pipe, request):
    return [pipe]
"""


@pytest.mark.parametrize(
    "reply",
    [
        f"Here is the code:\n```python\n{MODULE}```\nIt uses DeepCache.",
        f"```\n{MODULE}```",
        f"```py\n{MODULE}```",
        f"First the idea:\n```python\npipe = load()\n```\nThe module:\n```python\n{MODULE}```\nDone.",
        MODULE,
        f"Sure! Below is the solution.\n\n{MODULE}\nThis should be about 2x faster.",
        f"```python\n{MODULE}",  # the reply was cut before the closing fence
    ],
    ids=["python fence", "bare fence", "py fence", "two fences", "no fence", "prose around", "unclosed fence"],
)
def test_the_module_is_found(reply):
    code = extract_module(reply)
    assert code is not None and defines_contract(code)
    assert "DeepCache" not in code and "faster" not in code


def test_the_last_complete_version_wins():
    older = MODULE.replace("return [pipe]", "return []")
    reply = f"```python\n{older}```\nOn second thought:\n```python\n{MODULE}```"
    assert extract_module(reply) == MODULE


def test_a_syntax_error_is_returned_for_the_debugger_not_dropped():
    broken = MODULE.replace("return [pipe]", "return [pipe")
    code = extract_module(f"```python\n{broken}```")
    assert code is not None and "return [pipe" in code and not defines_contract(code)


def test_no_code_is_none():
    assert extract_module("I cannot help with that.") is None
    assert extract_module("```python\nprint('hello')\n```") is None
