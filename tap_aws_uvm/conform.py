"""Every record fits the schema the tap declares for it, cheaply.

AWS's models are not always what services send: a finding imported by a third party may carry
``Severity.Original`` as a number where the model says string. Such a value passed through
unchanged (singer-sdk's own conformance is off: it costs more than half of its per-record
time) and made target-postgres and target-jsonl abort the whole load on that one record.

A :class:`Conformer` is compiled once per stream from its schema into a tree of expected
kinds, then walks each record's present keys only, in place: a scalar of another JSON type
becomes the declared one (a number or a boolean where a string is declared becomes that
string, a numeric string where a number is declared becomes the number); a value that cannot
be turned into the declared type becomes null; free-form objects (tag maps, documents) are
left as they are. Nothing is copied when a record already fits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ANY = "any"
SCALARS = ("string", "number", "integer", "boolean")


@dataclass
class Node:
    """What a schema declares at one place. An object node sorts its properties by kind, so
    that the walk tests a key's kind with one set lookup and calls nothing for a fitting
    string (most of a finding)."""

    kind: str  # string | number | integer | boolean | object | array | any
    items: Node | None = None  # arrays
    strings: frozenset[str] = frozenset()  # objects: properties by kind
    numbers: frozenset[str] = frozenset()
    integers: frozenset[str] = frozenset()
    booleans: frozenset[str] = frozenset()
    containers: dict[str, Node] = field(default_factory=dict)  # objects and arrays


def compile_schema(schema: dict[str, Any]) -> Node:
    """The tree of kinds a JSON schema declares (one kind per node; anything else: any)."""
    if not isinstance(schema, dict) or any(k in schema for k in ("anyOf", "oneOf", "allOf")):
        return Node(ANY)
    types = schema.get("type", [])
    kinds = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    if len(kinds) != 1:
        return Node(ANY)
    (kind,) = kinds
    if kind == "object":
        properties = schema.get("properties")
        if not properties:  # a map or a free-form document: left as AWS sent it
            return Node(ANY)
        children = {k: compile_schema(v) for k, v in properties.items()}
        by_kind = {
            scalar: frozenset(k for k, c in children.items() if c.kind == scalar)
            for scalar in SCALARS
        }
        return Node(
            "object",
            strings=by_kind["string"],
            numbers=by_kind["number"],
            integers=by_kind["integer"],
            booleans=by_kind["boolean"],
            containers={k: c for k, c in children.items() if c.kind in ("object", "array")},
        )
    if kind == "array":
        return Node("array", items=compile_schema(schema.get("items", {})))
    if kind in SCALARS:
        return Node(kind)
    return Node(ANY)


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _to_number(value: Any, integer: bool) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if integer and value.is_integer() else (None if integer else value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        if integer:
            return int(number) if number.is_integer() else None
        return int(number) if number.is_integer() and "." not in value else number
    return None


def _to_boolean(value: Any) -> bool | None:
    if type(value) is bool:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _fit_scalar(value: Any, kind: str) -> Any:
    if kind == "string":
        return value if type(value) is str else _to_string(value)
    if kind == "boolean":
        return _to_boolean(value)
    if type(value) is int or (kind == "number" and type(value) is float):
        return value
    return _to_number(value, integer=kind == "integer")


def _fit_object(value: dict[str, Any], node: Node) -> None:
    strings, containers = node.strings, node.containers
    for key, item in value.items():
        if item is None:
            continue
        if key in strings:
            if type(item) is not str:
                value[key] = _to_string(item)
        elif key in containers:
            fitted = conform(item, containers[key])
            if fitted is not item:
                value[key] = fitted
        elif key in node.numbers:
            if type(item) is not int and type(item) is not float:
                value[key] = _to_number(item, integer=False)
        elif key in node.integers:
            if type(item) is not int:
                value[key] = _to_number(item, integer=True)
        elif key in node.booleans and type(item) is not bool:
            value[key] = _to_boolean(item)


def conform(value: Any, node: Node) -> Any:
    """``value`` as ``node`` declares it (containers changed in place)."""
    kind = node.kind
    if value is None or kind == ANY:
        return value
    if kind == "object":
        if type(value) is not dict:
            return None
        _fit_object(value, node)
        return value
    if kind == "array":
        if type(value) is not list:
            return None
        items = node.items
        if items is not None and items.kind != ANY:
            for n, item in enumerate(value):
                if item is not None:
                    fitted = conform(item, items)
                    if fitted is not item:
                        value[n] = fitted
        return value
    return _fit_scalar(value, kind)


class Conformer:
    """One stream's schema, compiled; ``fit(record)`` conforms a record in place."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = compile_schema(schema)

    def fit(self, record: dict[str, Any]) -> dict[str, Any]:
        fitted = conform(record, self.root)
        return record if fitted is None else fitted
