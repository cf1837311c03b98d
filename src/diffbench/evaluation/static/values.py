"""The values the abstract interpreter (interpreter.py) computes with: arithmetic, attributes, subscripts, the
pure builtins and the methods of constants, each applied only where the result is certain and bounded in size;
everything else is UNKNOWN. Nothing here runs the candidate's code."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from diffbench.evaluation.static.facts import UNKNOWN, Obj, Ref, concrete

MAX_SEQUENCE = 10_000  # longest string/list the interpreter builds by arithmetic

_PURE_STR_METHODS = frozenset({"format", "join", "lower", "upper", "replace", "strip", "lstrip", "rstrip", "split"})
_PURE_BUILTINS = {"int": int, "float": float, "str": str, "bool": bool, "round": round, "min": min, "max": max,
                  "abs": abs, "len": len, "tuple": tuple, "list": list}  # fmt: skip
_OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
              ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
              ast.Pow: lambda a, b: a**b}  # fmt: skip


@dataclass
class Function:
    """A function of the module, followed when called (its arguments bound)."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    env: dict[str, Any]  # the scope it was defined in


def binop(op: ast.operator, left: Any, right: Any) -> Any:
    if not (concrete(left) and concrete(right)):
        return UNKNOWN
    if isinstance(op, (ast.Mult, ast.Pow)):
        size = [v for v in (left, right) if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if isinstance(op, ast.Pow) and any(abs(v) > 64 for v in size):
            return UNKNOWN
        if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
            length = len(left if isinstance(left, (str, list, tuple)) else right) * (size[0] if size else 0)
            if length > MAX_SEQUENCE:
                return UNKNOWN
    fn = _OPERATORS.get(type(op))
    if fn is None:
        return UNKNOWN
    try:
        result = fn(left, right)
    except Exception:
        return UNKNOWN
    if isinstance(result, (str, list, tuple)) and len(result) > MAX_SEQUENCE:
        return UNKNOWN
    return result


def attribute(owner: Any, attr: str) -> Any:
    if isinstance(owner, Ref):
        return Ref(f"{owner.name}.{attr}")
    if isinstance(owner, Obj):
        if attr not in owner.attrs:
            owner.attrs[attr] = Obj(f"{owner.kind}.{attr}", parent=owner, attr=attr)
        return owner.attrs[attr]
    if isinstance(owner, Function):
        return UNKNOWN
    if (isinstance(owner, (dict, list)) or concrete(owner)) and not attr.startswith("_"):
        return BoundConstant(owner, attr)
    return UNKNOWN


def subscript(owner: Any, key: Any) -> Any:
    if isinstance(owner, dict) and concrete(key):
        return owner.get(key, UNKNOWN)
    if isinstance(owner, (list, tuple)) and isinstance(key, int) and -len(owner) <= key < len(owner):
        return owner[key]
    if isinstance(owner, Obj):
        label = key if isinstance(key, (str, int)) else "?"
        return Obj(f"{owner.kind}[{label}]", parent=owner)
    return UNKNOWN


def builtin(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """A builtin's result where it is pure (or dict/getattr/setattr on what the interpreter holds)."""
    if name == "dict":
        out = dict(args[0]) if args and isinstance(args[0], dict) else {}
        out.update(kwargs)
        return out
    if name == "getattr" and len(args) >= 2 and isinstance(args[1], str):
        return attribute(args[0], args[1])
    if name == "setattr" and len(args) == 3 and isinstance(args[0], Obj) and isinstance(args[1], str):
        args[0].attrs[args[1]] = args[2]
        return None
    if name in _PURE_BUILTINS and all(concrete(a) for a in args) and not kwargs:
        try:
            return _PURE_BUILTINS[name](*args)
        except Exception:
            return UNKNOWN
    return UNKNOWN


@dataclass
class BoundConstant:
    """A method of a constant (`"{}/{}".format`, `kwargs.update`), applied only where it is pure or a dict update."""

    owner: Any
    attr: str

    def apply(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if isinstance(self.owner, dict):
            if self.attr == "update":
                if args and isinstance(args[0], dict):
                    self.owner.update(args[0])
                self.owner.update(kwargs)
                return None
            if self.attr == "get" and args and concrete(args[0]):
                return self.owner.get(args[0], args[1] if len(args) > 1 else None)
            if self.attr == "copy":
                return dict(self.owner)
            if self.attr == "setdefault" and args and concrete(args[0]):
                return self.owner.setdefault(args[0], args[1] if len(args) > 1 else None)
            if self.attr == "pop" and args and concrete(args[0]):
                return self.owner.pop(args[0], args[1] if len(args) > 1 else UNKNOWN)
            return UNKNOWN
        if isinstance(self.owner, list) and self.attr in ("append", "extend"):
            getattr(self.owner, self.attr)(*args)
            return None
        if isinstance(self.owner, str) and self.attr in _PURE_STR_METHODS and all(concrete(a) for a in args):
            if not all(concrete(v) for v in kwargs.values()):
                return UNKNOWN
            try:
                result = getattr(self.owner, self.attr)(*args, **kwargs)
            except Exception:
                return UNKNOWN
            return result if not isinstance(result, str) or len(result) <= MAX_SEQUENCE else UNKNOWN
        return UNKNOWN
