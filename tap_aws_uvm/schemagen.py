"""JSON Schemas for the tap's streams, generated from botocore's service models.

What each stream's schema is made of is declared in :mod:`tap_aws_uvm.schema_sources`;
this module turns those declarations into JSON Schema (Draft 7) and reads back the
committed files under ``tap_aws_uvm/schemas/`` (``scripts/generate_schemas.py`` writes
them; a test fails when they drift from the installed botocore).

Mapping of botocore shapes:

* structure -> object with ``properties`` (nested names keep AWS's spelling);
  list -> array; map -> object with ``additionalProperties``;
* string -> string (an enum's allowed values go to ``description``, not ``enum``: AWS
  adds values between botocore releases and singer-sdk targets reject records that
  fail validation); timestamp -> string with ``format: date-time``; blob -> string
  (base64); integer/long -> integer; float/double -> number; boolean -> boolean;
* document -> any JSON value (every JSON type listed rather than ``{}``, which
  singer-sdk's type conformance rejects with ``EmptySchemaTypeError``).

Every property is nullable except the stream's key properties (non-null and
``required``, as is ``account_id``). Top-level names go through
:func:`tap_aws_uvm.records.column_name`; a top-level ``tags`` column is always a
``{key: value}`` map. Recursive shapes, sub-trees nested deeper than ``MAX_DEPTH``
objects and the paths a source caps explicitly become open objects (or arrays).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape

from tap_aws_uvm.records import column_name

Schema = dict[str, Any]

# Object levels (structures and maps) below the record before a sub-tree is left open.
MAX_DEPTH = 8
# Enums with more values than this are summarized in the description, not listed.
MAX_ENUM_VALUES_LISTED = 60

SCHEMAS_PACKAGE = "tap_aws_uvm"
SCHEMAS_DIR = "schemas"
GENERATE_COMMAND = "uv run python scripts/generate_schemas.py"

_SCALARS: dict[str, str] = {
    "string": "string",
    "blob": "string",
    "character": "string",
    "boolean": "boolean",
    "integer": "integer",
    "long": "integer",
    "byte": "integer",
    "short": "integer",
    "float": "number",
    "double": "number",
    "bigdecimal": "number",
    "biginteger": "integer",
}

# Any JSON value. Listed explicitly: singer-sdk cannot conform a property whose schema is {}.
ANY_JSON_TYPES = ("object", "array", "string", "number", "boolean", "null")


# --------------------------------------------------------------------------- fragments


def nullable(json_type: str) -> list[str]:
    """``["<type>", "null"]``."""
    return [json_type, "null"]


def string() -> Schema:
    """A nullable string column."""
    return {"type": nullable("string")}


def number() -> Schema:
    """A nullable number column."""
    return {"type": nullable("number")}


def date_time() -> Schema:
    """A nullable UTC ISO 8601 timestamp column."""
    return {"type": nullable("string"), "format": "date-time"}


def integer() -> Schema:
    """A nullable integer column."""
    return {"type": nullable("integer")}


def array_of(items: Schema) -> Schema:
    """A nullable array column of ``items``."""
    return {"type": nullable("array"), "items": items}


def tags_map() -> Schema:
    """The ``tags`` column: ``{key: value}``, whatever AWS's own shape."""
    return {"type": nullable("object"), "additionalProperties": string()}


def open_object(reason: str | None = None) -> Schema:
    """An object whose content is not described."""
    schema: Schema = {"type": nullable("object")}
    if reason:
        schema["description"] = reason
    return schema


def any_json() -> Schema:
    """Any JSON value (an AWS document)."""
    return {"type": list(ANY_JSON_TYPES)}


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class AwsShape:
    """A botocore shape, optionally with members the stream adds (AWS names, AWS shapes)."""

    service: str
    shape: str
    add: Mapping[str, AwsShape] = field(default_factory=dict)


Column = Schema | AwsShape


@dataclass(frozen=True)
class SchemaSource:
    """What one stream's schema is made of.

    ``top``: the AWS shape whose members are the top-level columns (renamed with
    ``column_name``), or None for a composite record. ``extra``: columns the stream adds
    (a JSON schema fragment, or a nested AWS shape keeping AWS's names); they win over
    same-named AWS members. ``overrides``: replacements for top-level columns that come
    from ``top`` (the column must exist). ``caps``: record paths (``column.Member[].Member``,
    ``[]`` for list items, ``{}`` for map values) left as open objects.
    """

    key_properties: tuple[str, ...]
    top: AwsShape | None = None
    extra: Mapping[str, Column] = field(default_factory=dict)
    overrides: Mapping[str, Schema] = field(default_factory=dict)
    caps: tuple[str, ...] = ()
    replication_key: str | None = None


# Standard columns every stream has; key properties make them non-null. ``synced_at``: the UTC
# start of the sync that emitted the record, the same for every record of one run.
STANDARD_EXTRA: dict[str, Column] = {
    "account_id": string(),
    "region": string(),
    "synced_at": date_time(),
}


# --------------------------------------------------------------------------- builder


@functools.cache
def _service_model(service: str) -> Any:
    return _botocore_session().get_service_model(service)


@functools.lru_cache(maxsize=1)
def _botocore_session() -> Any:
    return botocore.session.get_session()


def botocore_shape(service: str, name: str) -> Shape:
    """A named shape of a service model."""
    return _service_model(service).shape_for(name)


@dataclass
class _Builder:
    service: str
    caps: frozenset[str]
    max_depth: int
    capped: list[str]

    def shape(self, shape: Shape, path: str, depth: int, stack: tuple[str, ...]) -> Schema:
        if path in self.caps:
            self.capped.append(path)
            return open_object(f"Not expanded: {self.service} {shape.name}.")
        if getattr(shape, "is_document_type", False):
            return any_json()
        if isinstance(shape, StructureShape):
            return self.structure(shape, path, depth + 1, stack)
        if isinstance(shape, ListShape):
            if self.key(shape) in stack:
                self.capped.append(path)
                return {"type": nullable("array"), "description": _recursive(self.service, shape)}
            return array_of(self.shape(shape.member, f"{path}[]", depth, (*stack, self.key(shape))))
        if isinstance(shape, MapShape):
            if depth + 1 > self.max_depth or self.key(shape) in stack:
                self.capped.append(path)
                return open_object(self.too_deep(shape, stack))
            value = self.shape(shape.value, f"{path}{{}}", depth + 1, (*stack, self.key(shape)))
            return {"type": nullable("object"), "additionalProperties": value}
        if shape.type_name == "timestamp":
            return date_time()
        if shape.type_name not in _SCALARS:
            raise ValueError(f"{self.service} {shape.name}: unknown shape type {shape.type_name}")
        schema: Schema = {"type": nullable(_SCALARS[shape.type_name])}
        if isinstance(shape, StringShape) and shape.enum:
            schema["description"] = _enum_description(self.service, shape)
        return schema

    def structure(
        self,
        shape: StructureShape,
        path: str,
        depth: int,
        stack: tuple[str, ...],
        add: Mapping[str, AwsShape] | None = None,
    ) -> Schema:
        if self.key(shape) in stack or depth > self.max_depth:
            self.capped.append(path)
            return open_object(self.too_deep(shape, stack))
        stack = (*stack, self.key(shape))
        properties = {
            name: self.shape(member, f"{path}.{name}", depth, stack)
            for name, member in shape.members.items()
        }
        for name, added in (add or {}).items():
            properties[name] = self.nested(added, f"{path}.{name}", depth, stack)
        return {"type": nullable("object"), "properties": properties}

    def key(self, shape: Shape) -> str:
        """How a shape is known on the recursion stack (names are per service)."""
        return f"{self.service}.{shape.name}"

    def too_deep(self, shape: Shape, stack: tuple[str, ...]) -> str:
        if self.key(shape) in stack:
            return _recursive(self.service, shape)
        return (
            f"Not expanded: {self.service} {shape.name} is nested more than "
            f"{self.max_depth} levels deep."
        )

    def nested(self, aws: AwsShape, path: str, depth: int, stack: tuple[str, ...]) -> Schema:
        """``aws`` as a value at ``path``, ``depth`` object levels below the record."""
        sub = _Builder(aws.service, self.caps, self.max_depth, self.capped)
        shape = botocore_shape(aws.service, aws.shape)
        if path in self.caps:
            self.capped.append(path)
            return open_object(f"Not expanded: {aws.service} {shape.name}.")
        if isinstance(shape, StructureShape):
            return sub.structure(shape, path, depth + 1, stack, aws.add)
        if aws.add:
            raise ValueError(f"{aws.service} {aws.shape}: members can only be added to a structure")
        return sub.shape(shape, path, depth, stack)


def _enum_description(service: str, shape: StringShape) -> str:
    values = list(shape.enum)
    if len(values) > MAX_ENUM_VALUES_LISTED:
        return f"One of {len(values)} values of {service} {shape.name} (botocore model)."
    return "One of: " + ", ".join(values) + "."


def _recursive(service: str, shape: Shape) -> str:
    return f"Not expanded: {service} {shape.name} is recursive."


def build_schema(
    source: SchemaSource, *, max_depth: int = MAX_DEPTH, capped: list[str] | None = None
) -> Schema:
    """The JSON schema of a stream declared by ``source``.

    ``capped``, when given, receives the record paths left as open objects.
    """
    capped = [] if capped is None else capped
    caps = frozenset(source.caps)
    properties: dict[str, Schema] = {}
    if source.top is not None:
        top = botocore_shape(source.top.service, source.top.shape)
        if not isinstance(top, StructureShape):
            raise ValueError(f"{source.top.service} {source.top.shape} is not a structure")
        builder = _Builder(source.top.service, caps, max_depth, capped)
        members: dict[str, Shape] = dict(top.members)
        origin: dict[str, str] = {}
        for aws_name, member in members.items():
            column = column_name(aws_name)
            if column in origin:
                raise ValueError(
                    f"{source.top.service} {source.top.shape}: {origin[column]} and {aws_name} "
                    f"both become column {column!r}"
                )
            origin[column] = aws_name
            properties[column] = builder.shape(member, column, 0, (builder.key(top),))
        for aws_name, added in source.top.add.items():
            column = column_name(aws_name)
            properties[column] = builder.nested(added, column, 0, (builder.key(top),))
        for column, schema in source.overrides.items():
            if column not in properties:
                raise ValueError(f"override of {column!r}: no such column in {source.top.shape}")
            properties[column] = copy.deepcopy(schema)
    elif source.overrides:
        raise ValueError("overrides need a top-level AWS shape")

    for column, spec in {**STANDARD_EXTRA, **source.extra}.items():
        if isinstance(spec, AwsShape):
            builder = _Builder(spec.service, caps, max_depth, capped)
            properties[column] = builder.nested(spec, column, 0, ())
        else:
            properties[column] = copy.deepcopy(spec)

    if "tags" in properties:
        properties["tags"] = tags_map()

    required = list(dict.fromkeys(("account_id", *source.key_properties)))
    for key in required:
        if key not in properties:
            raise ValueError(f"key property {key!r} is not a column")
        properties[key] = non_null(properties[key])
    if source.replication_key is not None and source.replication_key not in properties:
        raise ValueError(f"replication key {source.replication_key!r} is not a column")

    unknown_caps = caps.difference(capped)
    if unknown_caps:
        raise ValueError(f"cap paths match nothing: {sorted(unknown_caps)}")
    return {"type": "object", "properties": properties, "required": required}


def non_null(schema: Schema) -> Schema:
    """``schema`` without ``null`` in its type."""
    result = copy.deepcopy(schema)
    types = result.get("type")
    if isinstance(types, list):
        kept = [t for t in types if t != "null"]
        result["type"] = kept[0] if len(kept) == 1 else kept
    elif types is None:
        raise ValueError("a key property needs a type")
    return result


# --------------------------------------------------------------------------- streams


def stream_names() -> list[str]:
    """Every stream that has a schema source, sorted."""
    from tap_aws_uvm.schema_sources import SOURCES  # noqa: PLC0415 (sources import this module)

    return sorted(SOURCES)


def source_for(stream_name: str) -> SchemaSource:
    """The declaration of one stream's schema."""
    from tap_aws_uvm.schema_sources import SOURCES  # noqa: PLC0415 (sources import this module)

    try:
        return SOURCES[stream_name]
    except KeyError:
        raise KeyError(f"no schema source for stream {stream_name!r}") from None


def schema_for(stream_name: str) -> Schema:
    """A stream's schema, built now from the installed botocore."""
    return build_schema(source_for(stream_name))


def render_schema(schema: Schema) -> str:
    """The committed text of a schema: indent 2, sorted keys, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema_filename(stream_name: str) -> str:
    """``<stream>.json``."""
    return f"{stream_name}.json"


@functools.cache
def _schema_text(stream_name: str) -> str:
    resource = resources.files(SCHEMAS_PACKAGE) / SCHEMAS_DIR / schema_filename(stream_name)
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no committed schema for stream {stream_name!r}: run `{GENERATE_COMMAND}`"
        ) from None


def load_schema(stream_name: str) -> Schema:
    """A stream's committed schema (``tap_aws_uvm/schemas/<stream>.json``), a fresh copy."""
    schema: Schema = json.loads(_schema_text(stream_name))
    return schema
