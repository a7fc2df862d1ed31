"""AWS answers as wire bytes, written from botocore's output shapes, and checked by its parsers.

The canned server of the scale case answers ~25 operations over five protocols (query, ec2,
json, rest-json, rest-xml). Each answer is written once, at start-up, from a Python value
shaped like what boto3 returns: :func:`encode` walks the operation's output shape to get
every element name, list wrapper, timestamp format and result wrapper right, and
:func:`check` parses the bytes back with botocore's own parser and compares, so an answer
that botocore would read differently (or a member the model does not have) fails at
start-up, not as a wrong figure.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from botocore import parsers
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

JSON_CONTENT = {"json": "application/x-amz-json-1.1", "rest-json": "application/json"}
XML_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "ec2": "http://ec2.amazonaws.com/doc/2016-11-15/",
    "elbv2": "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
    "elb": "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/",
    "rds": "http://rds.amazonaws.com/doc/2014-10-31/",
    "s3": "http://s3.amazonaws.com/doc/2006-03-01/",
}
REST_XML_ROOTS = {"ListBuckets": "ListAllMyBucketsResult"}
REQUEST_ID = "c0ffee00-0000-4000-8000-000000000000"


class WireError(ValueError):
    """A value does not fit the operation's output shape."""


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _iso(value: Any) -> str:
    moment = _datetime(value).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ---- JSON protocols ---------------------------------------------------------------------------


def _json_value(shape: Shape, value: Any, where: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return value
        assert isinstance(shape, StructureShape)
        if not isinstance(value, Mapping):
            raise WireError(f"{where}: expected an object for {shape.name}")
        out = {}
        for name, item in value.items():
            if item is None:
                continue
            member = shape.members.get(name)
            if member is None:
                raise WireError(f"{where}: {shape.name} has no member {name!r}")
            out[member.serialization.get("name", name)] = _json_value(
                member, item, f"{where}.{name}"
            )
        return out
    if kind == "list":
        return [_json_value(shape.member, item, f"{where}[]") for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {
            str(k): _json_value(shape.value, v, f"{where}{{}}")  # type: ignore[attr-defined]
            for k, v in value.items()
        }
    if kind == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":
            return _iso(value)
        return round(_datetime(value).timestamp(), 3)
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        return bool(value)
    return str(value)


# ---- XML protocols ----------------------------------------------------------------------------


def _xml_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return _iso(value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(raw).decode()
    return escape(str(value))


def _xml_members(shape: StructureShape, value: Mapping[str, Any], where: str) -> str:
    parts = []
    for name, item in value.items():
        if item is None:
            continue
        member = shape.members.get(name)
        if member is None:
            raise WireError(f"{where}: {shape.name} has no member {name!r}")
        if member.serialization.get("location"):
            raise WireError(f"{where}.{name}: header members are not written here")
        parts.append(_xml_member(member, name, item, f"{where}.{name}"))
    return "".join(parts)


def _xml_member(shape: Shape, name: str, value: Any, where: str) -> str:
    tag = shape.serialization.get("name", name)
    kind = shape.type_name
    if kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        if shape.serialization.get("flattened"):
            item_tag = member.serialization.get("name", tag)
            return "".join(_xml_element(member, item_tag, v, where) for v in value)
        item_tag = member.serialization.get("name", "member")
        inner = "".join(_xml_element(member, item_tag, v, where) for v in value)
        return f"<{tag}>{inner}</{tag}>"
    if kind == "map":
        key_tag = shape.key.serialization.get("name", "key")  # type: ignore[attr-defined]
        value_tag = shape.value.serialization.get("name", "value")  # type: ignore[attr-defined]
        entries = "".join(
            f"<entry><{key_tag}>{escape(str(k))}</{key_tag}>"
            + _xml_element(shape.value, value_tag, v, where)  # type: ignore[attr-defined]
            + "</entry>"
            for k, v in value.items()
        )
        return f"<{tag}>{entries}</{tag}>"
    return _xml_element(shape, tag, value, where)


def _xml_element(shape: Shape, tag: str, value: Any, where: str) -> str:
    if shape.type_name == "structure":
        assert isinstance(shape, StructureShape)
        return f"<{tag}>{_xml_members(shape, value, where)}</{tag}>"
    if shape.type_name in ("list", "map"):
        return _xml_member(shape, tag, value, where)
    return f"<{tag}>{_xml_text(shape, value)}</{tag}>"


# ---- the answer ------------------------------------------------------------------------------


def encode(service: ServiceModel, operation: str, value: Mapping[str, Any]) -> tuple[bytes, str]:
    """``value`` (boto3's form of the operation's output) as (body, content type)."""
    op = service.operation_model(operation)
    shape = op.output_shape
    protocol = service.protocol
    where = f"{service.service_name}.{operation}"
    if protocol in JSON_CONTENT:
        body = {} if shape is None else _json_value(shape, value, where)
        return json.dumps(body, separators=(",", ":")).encode(), JSON_CONTENT[protocol]
    assert shape is None or isinstance(shape, StructureShape)
    members = "" if shape is None else _xml_members(shape, value, where)
    namespace = XML_NAMESPACES[service.service_name]
    if protocol == "rest-xml":
        root = REST_XML_ROOTS.get(operation, f"{operation}Result")
        text = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<{root} xmlns="{namespace}">{members}</{root}>'
        )
    elif protocol == "ec2":
        text = (
            f'<{operation}Response xmlns="{namespace}"><requestId>{REQUEST_ID}</requestId>'
            f"{members}</{operation}Response>"
        )
    elif protocol == "query":
        wrapper = (shape.serialization.get("resultWrapper") if shape else None) or (
            f"{operation}Result"
        )
        text = (
            f'<{operation}Response xmlns="{namespace}"><{wrapper}>{members}</{wrapper}>'
            f"<ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata>"
            f"</{operation}Response>"
        )
    else:
        raise WireError(f"{where}: protocol {protocol} is not written here")
    return text.encode(), "text/xml"


def json_error(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode()


def decode(service: ServiceModel, operation: str, body: bytes, content_type: str) -> Any:
    """What botocore makes of an answer (the parser its clients use)."""
    op: OperationModel = service.operation_model(operation)
    parser = parsers.create_parser(service.protocol)
    response = {"status_code": 200, "headers": {"content-type": content_type}, "body": body}
    parsed = parser.parse(response, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def _normal(shape: Shape | None, value: Any) -> Any:
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and not getattr(shape, "is_document_type", False):
        assert isinstance(shape, StructureShape)
        return {
            k: _normal(shape.members[k], v)
            for k, v in value.items()
            if v is not None and k in shape.members
        }
    if kind == "list":
        return [_normal(shape.member, v) for v in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {str(k): _normal(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return round(_datetime(value).timestamp(), 3)
    if kind in ("float", "double"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "blob":
        return value if isinstance(value, bytes) else str(value).encode()
    return value


def check(service: ServiceModel, operation: str, value: Mapping[str, Any]) -> tuple[bytes, str]:
    """:func:`encode`, then a parse with botocore's parser that must give ``value`` back."""
    body, content_type = encode(service, operation, value)
    compare(service, operation, body, content_type, value)
    return body, content_type


def json_items(service: ServiceModel, operation: str, member: str, items: list[Any]) -> list[bytes]:
    """Each item of list member ``member`` of the operation's output, as JSON bytes (for pages
    the server cuts at any size)."""
    shape = service.operation_model(operation).output_shape
    assert isinstance(shape, StructureShape)
    item_shape = shape.members[member].member  # type: ignore[attr-defined]
    where = f"{service.service_name}.{operation}.{member}[]"
    return [
        json.dumps(_json_value(item_shape, item, where), separators=(",", ":")).encode()
        for item in items
    ]


def json_name(service: ServiceModel, operation: str, member: str) -> str:
    shape = service.operation_model(operation).output_shape
    assert isinstance(shape, StructureShape)
    return str(shape.members[member].serialization.get("name", member))


def compare(
    service: ServiceModel, operation: str, body: bytes, content_type: str, value: Mapping[str, Any]
) -> None:
    """Fail unless botocore parses ``body`` into ``value``."""
    shape = service.operation_model(operation).output_shape
    parsed = _normal(shape, decode(service, operation, body, content_type))
    wanted = _normal(shape, value)
    if parsed != wanted:
        raise WireError(
            f"{service.service_name}.{operation}: botocore parses the answer differently:\n"
            f"  wrote {json.dumps(wanted, default=str)[:600]}\n"
            f"  read  {json.dumps(parsed, default=str)[:600]}"
        )
