"""Limits on rendering a template: time and output size, enforced from any thread.

Jinja2's sandbox stops attribute escapes but not a template that never ends
(`{% for a in range(99999) %}{% for b in range(99999) %}…`) or one that fills the memory
(`{{ 'x' * 10**8 }}`). `LimitedEnvironment` renders with a budget (a deadline and a size
cap, kept per thread) and checks it

- between output chunks (the render is a generator: `Template.generate`),
- on every loop iteration (each `{% for %}` iterates through `limited_iter`),
- on every call, filter and intercepted operator (`*`, `**`, `%`, `+`, `~`),

and refuses, before doing it, an operation whose result would be larger than the output
limit: a long string or list repeated, a huge power, a wide format, a `join` or `replace`
that multiplies text, a `range()` longer than `MAX_RANGE`. Nothing is interrupted from
outside, so it works in the UI thread, a worker thread or the CLI alike.

A broken limit raises `TemplateLimitError`, whose message names the limit.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

TIME_LIMIT = 1.0  # seconds per render
OUTPUT_LIMIT = 256 * 1024  # characters per render (and per value built on the way)
MAX_RANGE = 10_000  # items in one range()
MAX_INT_BITS = 64 * 1024  # the largest integer a template may compute
_CHECK_EVERY = 256  # loop iterations between two looks at the clock


class TemplateLimitError(jinja2.TemplateError):
    """A render broke the time or the output limit."""


@dataclass
class _Budget:
    deadline: float
    time_limit: float
    output_limit: int


def _kb(n: int) -> str:
    return f"{n // 1024} KB" if n >= 1024 else f"{n} characters"


def _size(value: object) -> int:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        return len(value)
    return 0


# widths and precisions: "%-100000s", "%.5f", "{:>100000}", "{0:.3}"
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*)(?:\.(\d*))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
_DIGITS = re.compile(r"\d+")
# what Jinja passes a filter before the value (pass_context, pass_eval_context, ...)
_PASSED = (Context, EvalContext, jinja2.Environment)


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """A sandbox (that also refuses to change lists and dicts) with a time and size budget."""

    intercepted_binops = frozenset(["*", "**", "%", "+", "//"])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()
        self.code_generator_class = _LimitedCodeGenerator
        self.template_class = LimitedTemplate
        self.globals.pop("lipsum", None)  # pure-Python text generator: no checks inside
        self.globals["range"] = self.limited_range

    # -- the budget ----------------------------------------------------------------------
    def _budget(self) -> _Budget | None:
        budget: _Budget | None = getattr(self._local, "budget", None)
        return budget

    def start(self, time_limit: float, output_limit: int) -> _Budget | None:
        """Begin a budget for this thread; returns the one it replaces (nested renders)."""
        previous = self._budget()
        self._local.budget = _Budget(time.monotonic() + time_limit, time_limit, output_limit)
        return previous

    def stop(self, previous: _Budget | None) -> None:
        self._local.budget = previous

    def check_time(self) -> None:
        b = self._budget()
        if b is not None and time.monotonic() > b.deadline:
            raise TemplateLimitError(
                f"stopped after {b.time_limit:g} s: a template must render within the "
                f"time limit of {b.time_limit:g} s"
            )

    def _limit(self) -> int:
        b = self._budget()
        return b.output_limit if b is not None else OUTPUT_LIMIT

    def check_size(self, n: int, what: str = "a value") -> None:
        limit = self._limit()
        if n > limit:
            raise TemplateLimitError(
                f"{what} ({n:,} long) is over the output limit of {_kb(limit)}"
            )

    def _check_result(self, value: Any) -> Any:
        self.check_size(_size(value))
        if isinstance(value, int) and not isinstance(value, bool):
            self._check_int_bits(value.bit_length())
        return value

    def _check_int_bits(self, bits: int) -> None:
        if bits > MAX_INT_BITS:
            raise TemplateLimitError(
                f"a number of about {bits:,} bits is over the limit of {MAX_INT_BITS:,} bits"
            )

    def _check_args(self, args: Iterable[Any]) -> None:
        for a in args:
            if isinstance(a, int) and not isinstance(a, bool) and abs(a) > self._limit():
                self.check_size(abs(a), "a width or count")

    def _check_format(self, fmt: object) -> None:
        if not isinstance(fmt, str):
            return
        numbers = [n for m in _PERCENT_SPEC.finditer(fmt) for n in m.groups() if n]
        numbers += [n for m in _BRACE_SPEC.finditer(fmt) for n in _DIGITS.findall(m.group(1))]
        for n in numbers:
            width = int(n[:12])
            if width > self._limit():
                self.check_size(width, "a format width")

    # -- what a template can do ------------------------------------------------------------
    def limited_range(self, *args: int) -> _CheckedRange:
        rng = range(*args)
        if len(rng) > MAX_RANGE:
            raise TemplateLimitError(
                f"range() of {len(rng):,} items is over the limit of {MAX_RANGE:,} items"
            )
        return _CheckedRange(self, rng)

    def limited_iter(self, iterable: Any) -> Iterator[Any]:
        """What every `{% for %}` loop iterates: the clock is read as it goes."""
        self.check_time()
        for n, item in enumerate(iterable, 1):
            if n % _CHECK_EVERY == 0:
                self.check_time()
            yield item

    def limited_concat(self, *parts: Any) -> str:
        """The `~` operator."""
        self.check_time()
        strs = [str(p) for p in parts]
        self.check_size(sum(map(len, strs)), "a joined string")
        return "".join(strs)

    def concat(self, parts: Iterable[str]) -> str:
        """Joins a macro's, a block's or a `{% set %}` block's output."""
        seq = list(parts)
        self.check_size(sum(map(len, seq)), "a block's output")
        return "".join(seq)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        self.check_time()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if _size(seq) and isinstance(n, int):
                    self.check_size(_size(seq) * max(n, 0), "a repeated string or list")
            if isinstance(left, int) and isinstance(right, int):
                self._check_int_bits(left.bit_length() + right.bit_length())
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
                self._check_int_bits(left.bit_length() * right)
        elif operator == "%" and isinstance(left, str):
            self._check_format(left)
        return self._check_result(super().call_binop(context, operator, left, right))

    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        __self.check_time()
        __self._check_args([*args, *kwargs.values()])
        # a bound method, or the sandbox's wrapper of str.format (see `wrap_str_format`)
        method = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(method, "__self__", None)
        name = getattr(method, "__name__", "")
        if isinstance(owner, str):
            __self._check_str_method(owner, name, args, kwargs)
        result = ImmutableSandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs)
        return __self._check_result(result)

    def _check_str_method(
        self, s: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if name in ("format", "format_map"):
            self._check_format(s)
        elif name == "replace" and len(args) >= 2:
            self.check_size(_replaced_size(s, args[0], args[1]), "a replaced string")
        elif name == "expandtabs":
            width = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(width, int):
                self.check_size(len(s) + s.count("\t") * width, "an expanded string")
        elif name == "join" and args:
            self._check_join(s, args[0])

    def _check_join(self, sep: object, items: object) -> None:
        if isinstance(items, list | tuple | str | range | _CheckedRange):
            n = len(items)
            self.check_size(len(str(sep)) * max(n - 1, 0), "a joined string")

    def wrap_filters(self) -> None:
        """Put the budget around every filter (call after adding the filters)."""
        for name, f in list(self.filters.items()):
            self.filters[name] = self._wrap_filter(name, f)

    def _wrap_filter(self, name: str, f: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(f)
        def limited(*args: Any, **kwargs: Any) -> Any:
            self.check_time()
            self._check_args([*args, *kwargs.values()])
            values = [a for a in args if not isinstance(a, _PASSED)]
            if values:
                self._check_filter(name, values[0], values[1:], kwargs)
            return self._check_result(f(*args, **kwargs))

        return limited

    def _check_filter(self, name: str, value: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
        if name == "format":
            self._check_format(value)
        elif name == "replace" and len(args) >= 2 and isinstance(value, str):
            self.check_size(_replaced_size(value, args[0], args[1]), "a replaced string")
        elif name == "join":
            sep = args[0] if args else kwargs.get("d", "")
            self._check_join(sep, value)
        elif name == "indent" and isinstance(value, str):
            width = args[0] if args else kwargs.get("width", 4)
            w = len(width) if isinstance(width, str) else width
            if isinstance(w, int):
                self.check_size(len(value) + (value.count("\n") + 1) * w, "an indented string")
        elif name == "wordwrap" and isinstance(value, str):
            wrap = kwargs.get("wrapstring") or (args[2] if len(args) > 2 else None)
            width = args[0] if args else kwargs.get("width", 79)
            if isinstance(wrap, str) and isinstance(width, int) and width > 0:
                lines = len(value) // width + value.count("\n") + 1
                self.check_size(len(value) + lines * len(wrap), "a wrapped string")


def _replaced_size(s: str, old: object, new: object) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(s)
    count = len(s) + 1 if old == "" else s.count(old)
    return len(s) + count * max(len(new) - len(old), 0)


class _CheckedRange:
    """`range()` in a template: a real range whose iteration reads the clock."""

    def __init__(self, env: LimitedEnvironment, rng: range) -> None:
        self._env = env
        self._range = rng

    def __iter__(self) -> Iterator[int]:
        return self._env.limited_iter(self._range)

    def __len__(self) -> int:
        return len(self._range)

    def __contains__(self, item: object) -> bool:
        return item in self._range

    def __getitem__(self, i: Any) -> Any:
        return self._range[i]

    def __repr__(self) -> str:
        return repr(self._range)


class _LimitNodes(NodeTransformer):
    """Every loop iterates through `limited_iter`; every `~` joins through `limited_concat`."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _env_call("limited_iter", [node.iter], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _env_call("limited_concat", list(node.nodes), node.lineno)


def _env_call(method: str, args: list[nodes.Node], lineno: int) -> nodes.Call:
    call = nodes.Call(nodes.EnvironmentAttribute(method), args, [], None, None)
    call.set_lineno(lineno)
    return call


class _LimitedCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        _LimitNodes().visit(node)
        super().visit_Template(node, frame)


class LimitedTemplate(jinja2.Template):
    """`render()` runs within the environment's budget (time and output limits)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self.render_limited(dict(*args, **kwargs))

    def render_limited(
        self,
        context: dict[str, Any],
        *,
        time_limit: float = TIME_LIMIT,
        output_limit: int = OUTPUT_LIMIT,
    ) -> str:
        env = self.environment
        if not isinstance(env, LimitedEnvironment):
            return super().render(context)
        previous = env.start(time_limit, output_limit)
        try:
            parts: list[str] = []
            size = 0
            for chunk in self.generate(context):
                size += len(chunk)
                if size > output_limit:
                    raise TemplateLimitError(
                        f"the output is over the output limit of {_kb(output_limit)}"
                    )
                env.check_time()
                parts.append(chunk)
            return "".join(parts)
        finally:
            env.stop(previous)
