"""What the registries of query methods, initial-pool families and self-supervised models share: messages for
unknown names and the declared options of each method, with their types and ranges."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any


def unknown_name_message(key: str, value: str, valid: list[str]) -> str:
    """``key: unknown name 'x'; did you mean 'y'? valid: ...``"""
    close = difflib.get_close_matches(str(value), valid, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ";"
    return f"{key}: unknown name {value!r}{hint} valid: {', '.join(sorted(valid))}"


_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true/false", str: "a string", tuple: "a list of numbers"}


@dataclass(frozen=True)
class Option:
    """An option a query method or a pool family reads from ``ctx.options``, or a self-supervised model from
    ``pretext.settings``.

    Numbers must lie in ``[low, high]`` (open at ``low`` when ``low_open``, at ``high`` when ``high_open``); a
    ``tuple`` option is a list of as many numbers as its default, each in that range; a string must be one of
    ``choices`` or match ``pattern``; ``nullable`` allows ``null`` (the default then means "derive it").
    """

    name: str
    type: type
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    nullable: bool = False

    def problem(self, key: str, value: Any) -> str | None:
        """The one-line message for an invalid ``value`` given at ``key``, or None."""
        if value is None and self.nullable:
            return None
        if self.type is tuple:
            return self._tuple_problem(key, value)
        if not _is_type(value, self.type):
            return f"{key}: expected {_TYPE_NAMES[self.type]}{' or null' if self.nullable else ''}, got {value!r}"
        if self.choices and value not in self.choices:
            return unknown_name_message(key, value, list(self.choices))
        if self.pattern and not re.fullmatch(self.pattern, value):
            return f"{key}: {value!r} is not one of {self.range_text()}"
        if not self._in_range(value):
            return f"{key}: must lie in {self.range_text()}, got {value!r}"
        return None

    def _in_range(self, value: float) -> bool:
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        above = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        return not (below or above)

    def _tuple_problem(self, key: str, value: Any) -> str | None:
        n = len(self.default)
        if not (isinstance(value, (list, tuple)) and len(value) == n and all(_is_type(v, float) for v in value)):
            return f"{key}: expected a list of {n} numbers (like {list(self.default)}), got {value!r}"
        if not all(self._in_range(v) for v in value):
            return f"{key}: every number must lie in {self.range_text()}, got {value!r}"
        return None

    def read(self, given: dict[str, Any]) -> Any:
        """This option's value in ``given`` (a context's ``options``), else its default."""
        return given.get(self.name, self.default)

    def range_text(self) -> str:
        """The valid values in words: ``[2, ∞)``, ``(0, 1]``, ``random, nearest`` …"""
        if self.choices:
            return ", ".join(self.choices)
        if self.pattern:
            return self.pattern.replace("(:\\d+)?", "[:N]").replace("|", ", ")
        if self.low is None and self.high is None:
            return "any value"
        low = "-∞" if self.low is None else _number(self.low)
        high = "∞" if self.high is None else _number(self.high)
        closed_high = self.high is not None and not self.high_open
        return f"{'(' if self.low_open or self.low is None else '['}{low}, {high}{']' if closed_high else ')'}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and math.isfinite(value) else f"{value:g}"


def _is_type(value: Any, tp: type) -> bool:
    if tp is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if tp is float:
        return isinstance(value, (int, float))
    return isinstance(value, tp)


def read_options(options: tuple[Option, ...], given: dict[str, Any]) -> dict[str, Any]:
    """Every option of ``options`` by name, as given or by default."""
    return {option.name: option.read(given) for option in options}


def declared_options(methods) -> dict[str, list[tuple[str, Option]]]:
    """Every option name → the (method, option) pairs declaring it, from ``(method, options)`` pairs."""
    declared: dict[str, list[tuple[str, Option]]] = {}
    for method, options in methods:
        for option in options:
            declared.setdefault(option.name, []).append((method, option))
    return declared


def check_options(
    key: str, given: dict[str, Any], declared: dict[str, list[tuple[str, Option]]], in_use: set[str]
) -> str | None:
    """The message for the first invalid entry of ``given`` (option name → value), or None.

    ``declared`` maps each option name to the (method, option) pairs declaring it; an option read by no
    method in ``in_use`` would be silently ignored, so it is refused too.
    """
    for name, value in given.items():
        if name not in declared:
            return unknown_name_message(key, name, list(declared))
        readers = [method for method, _ in declared[name] if method in in_use]
        if not readers:
            methods = ", ".join(sorted({method for method, _ in declared[name]}))
            return f"{key}.{name}: an option of {methods}, which this study does not run"
        option = dict(declared[name])[readers[0]]
        problem = option.problem(f"{key}.{name}", value)
        if problem:
            return problem
    return None
