"""An abstract interpreter for solution modules: follows the code without running it.

It walks the module body, then `load_pipeline(device)` and `generate(pipe, request)` with the pipeline that
`load_pipeline` returns, recording every call with its arguments resolved as far as the code allows. It follows
the indirection LLM code uses: constants and variables, keyword dicts (`**kwargs`, `dict(...)`, item
assignment, `.update`), f-strings and string arithmetic, import aliases, `from_config`/`from_pretrained`
chains, attribute assignment (`pipe.scheduler = ...`) and helper functions of the same module (inlined with
their arguments bound). Control flow is walked in source order, every branch once, so the last assignment in
the text wins. It never executes the candidate's code and never raises on odd code: what it cannot follow
becomes UNKNOWN.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
from dataclasses import dataclass, field
from typing import Any

from diffbench.evaluation.static.facts import UNKNOWN, Call, ModuleFacts, Obj, Ref, concrete
from diffbench.evaluation.static.values import BoundConstant, Function, attribute, binop, builtin, subscript

MAX_DEPTH = 8  # nested helper calls followed
MAX_STEPS = 20_000  # statements and expressions visited in all; beyond it the rest is UNKNOWN

# Methods that return the object they are called on (`pipe = pipe.to(device)`).
RETURNS_SELF = frozenset({"to", "half", "float", "bfloat16", "cuda", "cpu", "eval", "requires_grad_", "train"})
# Class methods that build an instance of their class.
CONSTRUCTORS = frozenset({"from_pretrained", "from_config", "from_single_file", "from_pipe"})
# Patchers that return the pipeline they were given, patched (tgate's loaders add `pipe.tgate`).
PATCHERS = ("tgate.",)


class _Budget(Exception):
    pass


@dataclass
class Frame:
    env: dict[str, Any]
    scope: str
    depth: int
    globals_declared: set[str] = field(default_factory=set)
    returns: list[Any] = field(default_factory=list)


def is_pipeline_class(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last.endswith("Pipeline") or last.startswith("AutoPipeline")


class Interpreter:
    def __init__(self) -> None:
        self.facts = ModuleFacts()
        self.module_env: dict[str, Any] = {}
        self.steps = 0
        self.pipelines: list[Obj] = []

    # ---- entry --------------------------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> ModuleFacts:
        module = Frame(self.module_env, "<module>", 0)
        self.exec_body(tree.body, module)
        self.facts.functions = {k for k, v in self.module_env.items() if isinstance(v, Function)}
        pipe: Any = UNKNOWN
        if isinstance(load := self.module_env.get("load_pipeline"), Function):
            pipe = self.invoke(load, [Obj("device")], {}, "load_pipeline", 0)
        if not (isinstance(pipe, Obj) and self._pipeline_root(pipe) is not None):
            pipe = self.pipelines[-1] if self.pipelines else pipe
        else:
            pipe = self._pipeline_root(pipe)
        self.facts.pipeline = pipe if isinstance(pipe, Obj) else None
        if isinstance(gen := self.module_env.get("generate"), Function):
            self.invoke(gen, [pipe if isinstance(pipe, Obj) else Obj("pipe"), Obj("request")], {}, "generate", 0)
        return self.facts

    def finish(self) -> ModuleFacts:
        self.facts.generation_calls = [c for c in self.facts.calls if c.scope == "generate" and self._generates(c)]
        if self.facts.pipeline is None and self.pipelines:
            self.facts.pipeline = self.pipelines[-1]
        return self.facts

    def _pipeline_root(self, value: Obj) -> Obj | None:
        return value if value in self.pipelines else None

    def _generates(self, call: Call) -> bool:
        callee = call.callee
        if isinstance(callee, Obj) and callee in self.pipelines:
            return True
        if isinstance(callee, Obj) and callee.attr in ("tgate", "__call__") and callee.parent in self.pipelines:
            return True
        return "num_inference_steps" in call.kwargs

    # ---- statements ---------------------------------------------------------------------------------------
    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Budget

    def exec_body(self, body: list[ast.stmt], frame: Frame) -> None:
        for stmt in body:
            try:
                self.exec_stmt(stmt, frame)
            except _Budget:
                raise
            except (RecursionError, MemoryError):
                raise _Budget from None
            except Exception:
                continue

    def exec_stmt(self, stmt: ast.stmt, frame: Frame) -> None:
        self.tick()
        match stmt:
            case ast.Import(names=names):
                for alias in names:
                    if alias.asname:
                        self.assign_name(alias.asname, Ref(alias.name), frame)
                    else:
                        top = alias.name.split(".")[0]
                        self.assign_name(top, Ref(top), frame)
            case ast.ImportFrom(module=module, names=names):
                for alias in names:
                    if alias.name != "*":
                        self.assign_name(alias.asname or alias.name, Ref(f"{module or ''}.{alias.name}"), frame)
            case ast.FunctionDef() | ast.AsyncFunctionDef():
                self.assign_name(stmt.name, Function(stmt, frame.env), frame)
            case ast.ClassDef():  # the module's own class: its instances are calls named after it
                self.assign_name(stmt.name, Ref(stmt.name), frame)
            case ast.Assign(targets=targets, value=value):
                result = self.eval(value, frame)
                for target in targets:
                    self.assign(target, result, frame)
            case ast.AnnAssign(target=target, value=value) if value is not None:
                self.assign(target, self.eval(value, frame), frame)
            case ast.AugAssign(target=target, op=op, value=value):
                current = (
                    self.eval(target, frame) if not isinstance(target, ast.Name) else self.lookup(target.id, frame)
                )
                self.assign(target, binop(op, current, self.eval(value, frame)), frame)
            case ast.Expr(value=value):
                self.eval(value, frame)
            case ast.Return(value=value):
                frame.returns.append(self.eval(value, frame) if value is not None else None)
            case ast.Global(names=names) | ast.Nonlocal(names=names):
                frame.globals_declared.update(names)
            case ast.If(test=test, body=body, orelse=orelse) | ast.While(test=test, body=body, orelse=orelse):
                self.eval(test, frame)
                self.exec_body(body, frame)
                self.exec_body(orelse, frame)
            case (
                ast.For(target=target, iter=iterable, body=body, orelse=orelse)
                | ast.AsyncFor(target=target, iter=iterable, body=body, orelse=orelse)
            ):
                seq = self.eval(iterable, frame)
                item = seq[0] if isinstance(seq, (list, tuple)) and seq else self.item_of(seq)
                self.assign(target, item, frame)
                self.exec_body(body, frame)
                self.exec_body(orelse, frame)
            case ast.With(items=items, body=body) | ast.AsyncWith(items=items, body=body):
                for item in items:
                    value = self.eval(item.context_expr, frame)
                    if item.optional_vars is not None:
                        self.assign(item.optional_vars, value, frame)
                self.exec_body(body, frame)
            case ast.Try(body=body, handlers=handlers, orelse=orelse, finalbody=final):
                self.exec_body(body, frame)
                for handler in handlers:
                    self.exec_body(handler.body, frame)
                self.exec_body(orelse, frame)
                self.exec_body(final, frame)
            case _:
                pass  # class bodies, match statements, deletes, asserts, raises: nothing to follow

    def item_of(self, seq: Any) -> Any:
        if isinstance(seq, Obj):
            return Obj(f"{seq.kind}[]", parent=seq)
        return UNKNOWN

    # ---- binding ------------------------------------------------------------------------------------------
    def assign_name(self, name: str, value: Any, frame: Frame) -> None:
        if name in frame.globals_declared:
            self.module_env[name] = value
        else:
            frame.env[name] = value

    def assign(self, target: ast.expr, value: Any, frame: Frame) -> None:
        match target:
            case ast.Name(id=name):
                self.assign_name(name, value, frame)
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                items = list(value) if isinstance(value, (list, tuple)) and len(value) == len(elts) else None
                for i, elt in enumerate(elts):
                    self.assign(elt, items[i] if items else UNKNOWN, frame)
            case ast.Attribute(value=owner_node, attr=attr):
                owner = self.eval(owner_node, frame)
                if isinstance(owner, Obj):
                    owner.attrs[attr] = value
            case ast.Subscript(value=owner_node, slice=key_node):
                owner, key = self.eval(owner_node, frame), self.eval(key_node, frame)
                if (isinstance(owner, dict) and concrete(key)) or (
                    isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner)
                ):
                    owner[key] = value
            case _:
                pass

    def lookup(self, name: str, frame: Frame) -> Any:
        if name in frame.env and name not in frame.globals_declared:
            return frame.env[name]
        if name in self.module_env:
            return self.module_env[name]
        if hasattr(builtins, name):
            return Ref(f"builtins.{name}")
        return UNKNOWN

    # ---- expressions --------------------------------------------------------------------------------------
    def eval(self, node: ast.expr, frame: Frame) -> Any:
        self.tick()
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=name):
                return self.lookup(name, frame)
            case ast.JoinedStr(values=parts):
                pieces = [self.eval(p, frame) for p in parts]
                return "".join(pieces) if all(isinstance(p, str) for p in pieces) else UNKNOWN
            case ast.FormattedValue(value=inner, format_spec=spec):
                value = self.eval(inner, frame)
                fmt = self.eval(spec, frame) if spec is not None else ""
                if concrete(value) and isinstance(fmt, str):
                    return format(value, fmt)
                return UNKNOWN
            case ast.Tuple(elts=elts):
                return tuple(self.eval_sequence(elts, frame))
            case ast.List(elts=elts):
                return self.eval_sequence(elts, frame)
            case ast.Dict(keys=keys, values=values):
                out: dict[Any, Any] = {}
                for k, v in zip(keys, values, strict=True):
                    if k is None:
                        merged = self.eval(v, frame)
                        if isinstance(merged, dict):
                            out.update(merged)
                        continue
                    key = self.eval(k, frame)
                    if concrete(key):
                        out[key] = self.eval(v, frame)
                return out
            case ast.BinOp(left=left, op=op, right=right):
                return binop(op, self.eval(left, frame), self.eval(right, frame))
            case ast.UnaryOp(op=op, operand=operand):
                value = self.eval(operand, frame)
                if isinstance(op, ast.USub) and isinstance(value, (int, float)) and not isinstance(value, bool):
                    return -value
                if isinstance(op, ast.Not) and concrete(value):
                    return not value
                return UNKNOWN
            case ast.BoolOp(op=op, values=values):
                results = [self.eval(v, frame) for v in values]
                for value in results[:-1]:
                    if not concrete(value):
                        return UNKNOWN
                    if bool(value) == isinstance(op, ast.Or):
                        return value
                return results[-1]
            case ast.IfExp(test=test, body=body, orelse=orelse):
                cond = self.eval(test, frame)
                if concrete(cond):
                    return self.eval(body if cond else orelse, frame)
                return self.eval(body, frame)
            case ast.Attribute(value=owner_node, attr=attr):
                return attribute(self.eval(owner_node, frame), attr)
            case ast.Subscript(value=owner_node, slice=key_node):
                return subscript(self.eval(owner_node, frame), self.eval(key_node, frame))
            case ast.Call():
                return self.call(node, frame)
            case ast.NamedExpr(target=target, value=value):
                result = self.eval(value, frame)
                self.assign(target, result, frame)
                return result
            case ast.Await(value=value):
                return self.eval(value, frame)
            case _:
                return UNKNOWN  # comprehensions, lambdas, comparisons, slices

    def eval_sequence(self, elts: list[ast.expr], frame: Frame) -> list[Any]:
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                inner = self.eval(elt.value, frame)
                out.extend(inner if isinstance(inner, (list, tuple)) else [UNKNOWN])
            else:
                out.append(self.eval(elt, frame))
        return out

    # ---- calls --------------------------------------------------------------------------------------------
    def call(self, node: ast.Call, frame: Frame) -> Any:
        callee = self.eval(node.func, frame)
        args = self.eval_sequence(node.args, frame)
        kwargs: dict[str, Any] = {}
        opaque = False
        for kw in node.keywords:
            value = self.eval(kw.value, frame)
            if kw.arg is not None:
                kwargs[kw.arg] = value
            elif isinstance(value, dict) and all(isinstance(k, str) for k in value):
                kwargs.update(value)
            else:
                opaque = True
        if isinstance(callee, Function):
            if frame.depth >= MAX_DEPTH:
                return UNKNOWN
            scope = frame.scope if frame.scope != "<module>" else callee.node.name
            return self.invoke(callee, args, kwargs, scope, frame.depth + 1)
        if isinstance(callee, BoundConstant):
            return callee.apply(args, kwargs)
        if isinstance(callee, Ref) and callee.name.startswith("builtins."):
            return builtin(callee.last, args, kwargs)
        return self.record(callee, args, kwargs, opaque, frame, node.lineno)

    def name_of(self, callee: Any) -> str:
        if isinstance(callee, Ref):
            return callee.name
        if isinstance(callee, Obj):
            return f"{callee.kind}.__call__" if callee in self.pipelines else callee.kind
        return "?"

    def record(self, callee: Any, args: list[Any], kwargs: dict[str, Any], opaque: bool, frame: Frame, line: int):
        name = self.name_of(callee)
        call = Call(name, callee, args, kwargs, frame.scope, line, opaque)
        self.facts.calls.append(call)
        # What the call returns.
        if isinstance(callee, Obj) and callee.attr in RETURNS_SELF and callee.parent is not None:
            return callee.parent
        if isinstance(callee, Ref) and "." in callee.name:
            owner, method = callee.name.rsplit(".", 1)
            if method in CONSTRUCTORS:
                result = Obj(owner, call=call)
                if is_pipeline_class(owner):
                    self.pipelines.append(result)
                call.result = result
                return result
            if callee.name.startswith(PATCHERS) and args and isinstance(args[0], Obj):
                return args[0]
            if is_pipeline_class(callee.name):
                result = Obj(callee.name, call=call)
                self.pipelines.append(result)
                call.result = result
                return result
        result = Obj(f"{name}()", call=call)
        call.result = result
        return result

    def invoke(self, fn: Function, args: list[Any], kwargs: dict[str, Any], scope: str, depth: int) -> Any:
        node = fn.node
        env = dict(fn.env) if fn.env is not self.module_env else {}
        params = node.args
        positional = [*params.posonlyargs, *params.args]
        defaults = [None] * (len(positional) - len(params.defaults)) + list(params.defaults)
        definer = Frame(fn.env, scope, depth)
        for i, param in enumerate(positional):
            if i < len(args):
                env[param.arg] = args[i]
            elif param.arg in kwargs:
                env[param.arg] = kwargs.pop(param.arg)
            elif defaults[i] is not None:
                env[param.arg] = self.eval(defaults[i], definer)
            else:
                env[param.arg] = UNKNOWN
        for param, default in zip(params.kwonlyargs, params.kw_defaults, strict=True):
            if param.arg in kwargs:
                env[param.arg] = kwargs.pop(param.arg)
            else:
                env[param.arg] = self.eval(default, definer) if default is not None else UNKNOWN
        if params.vararg:
            env[params.vararg.arg] = tuple(args[len(positional) :])
        if params.kwarg:
            env[params.kwarg.arg] = dict(kwargs)
        frame = Frame(env, scope, depth)
        self.exec_body(node.body, frame)
        return next((r for r in frame.returns if r is not UNKNOWN), UNKNOWN)


def interpret(tree: ast.Module) -> ModuleFacts:
    interpreter = Interpreter()
    with contextlib.suppress(_Budget):
        interpreter.run(tree)
    return interpreter.finish()
