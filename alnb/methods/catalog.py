"""The options of every registered method as one markdown table, rendered from the registries (query methods,
initial-pool families, self-supervised models); ``docs/options.md`` is this module's output, and a test checks
that it still is. Regenerate it with ``python -m alnb.methods.catalog > docs/options.md``."""

from __future__ import annotations

from alnb.methods.pools import declared_pool_options
from alnb.methods.pretext import SELF_SUPERVISED
from alnb.methods.query.base import declared_query_options
from alnb.methods.registry import Option, declared_options

HEADER = """# Options of the methods

Generated from the registries by `python -m alnb.methods.catalog > docs/options.md`; do not edit by hand.

`al.query_options` (query methods), `pools.options` (initial pools) and `pretext.settings.<model>` (each
self-supervised model of `pretext.tasks`) take only these keys. A misspelt key, a value of the wrong type or out of
range, and an option of a method the study does not run are refused like every other key of a params file, before
anything runs.

| methods | section | option | type and range | default | meaning |
|---|---|---|---|---|---|
"""


def _type_text(option: Option) -> str:
    """``int in [2, ∞)``, ``float in (0, 1] or null``, ```random` or `nearest```, ``true/false`` …"""
    if option.choices or option.pattern:
        values = [f"`{value.strip()}`" for value in option.range_text().split(",")]
        text = " or ".join(values) if len(values) == 2 else ", ".join(values)
    elif option.type is bool:
        text = "true/false"
    elif option.type is tuple:
        text = f"list of {len(option.default)} numbers in {option.range_text()}"
    else:
        text = f"{option.type.__name__} in {option.range_text()}"
    return f"{text} or null" if option.nullable else text


def _default_text(option: Option) -> str:
    if option.default is None:
        return "null"
    if isinstance(option.default, bool):
        return f"`{str(option.default).lower()}`"
    if isinstance(option.default, tuple):
        return f"`{list(option.default)}`"
    return f"`{option.default}`"


def _rows(section: str, declared: dict[str, list[tuple[str, Option]]]) -> list[str]:
    """One row per distinct option, listing every method that declares it (in registration order)."""
    rows = []
    for pairs in declared.values():
        groups: dict[Option, list[str]] = {}
        for method, option in pairs:
            groups.setdefault(option, []).append(method)
        for option, methods in groups.items():
            names = ", ".join(f"`{name}`" for name in dict.fromkeys(methods))
            cells = [names, section, f"`{option.name}`", _type_text(option), _default_text(option), option.doc]
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def options_table() -> str:
    """The markdown of ``docs/options.md``: every option of every registered method, with its type, range,
    default and meaning."""
    rows = _rows("`al.query_options`", declared_query_options())
    rows += _rows("`pools.options`", declared_pool_options())
    models = declared_options((name, method.options) for name, method in SELF_SUPERVISED.items())
    rows += _rows("`pretext.settings.<model>`", models)
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(options_table(), end="")
