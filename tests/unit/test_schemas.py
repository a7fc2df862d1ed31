"""Generated stream schemas: drift from botocore, mapping rules, Draft 7 validity."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from botocore.model import ServiceModel
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_aws_uvm import schemagen
from tap_aws_uvm.records import shape_record
from tap_aws_uvm.schema_sources import SOURCES
from tap_aws_uvm.schemagen import AwsShape, SchemaSource, build_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = ROOT / "tap_aws_uvm" / "schemas"
STREAMS = sorted(SOURCES)
NULLABLE_STRING = {"type": ["string", "null"]}
RECURSIVE = TypeConformanceLevel.RECURSIVE
LOGGER = logging.getLogger("test_schemas")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


# --------------------------------------------------------------------------- committed files


@pytest.mark.parametrize("stream", STREAMS)
def test_committed_schema_matches_botocore(stream: str) -> None:
    path = SCHEMAS_DIR / f"{stream}.json"
    assert path.exists(), f"{path} is missing: run `{schemagen.GENERATE_COMMAND}`"
    expected = schemagen.render_schema(schemagen.schema_for(stream))
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.relative_to(ROOT)} differs from the schema the installed botocore gives: "
        f"run `{schemagen.GENERATE_COMMAND}`"
    )


def test_no_stale_schema_files() -> None:
    files = {p.stem for p in SCHEMAS_DIR.glob("*.json")}
    assert files == set(STREAMS), f"run `{schemagen.GENERATE_COMMAND}`"


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_is_valid_draft7(stream: str) -> None:
    schema = schemagen.load_schema(stream)
    jsonschema.Draft7Validator.check_schema(schema)
    size = (SCHEMAS_DIR / f"{stream}.json").stat().st_size
    assert size < 1_000_000, f"{stream}.json is {size:,} bytes"


@pytest.mark.parametrize("stream", STREAMS)
def test_standard_columns_keys_and_top_level(stream: str) -> None:
    source = SOURCES[stream]
    schema = schemagen.load_schema(stream)
    properties = schema["properties"]
    assert schema["type"] == "object"
    assert properties["account_id"] == {"type": "string"}
    assert "account_id" in schema["required"]
    if "region" not in source.key_properties:
        assert properties["region"] == NULLABLE_STRING
    for key in source.key_properties:
        assert key in schema["required"]
        assert "null" not in json.dumps(properties[key]["type"]), key
    assert set(schema["required"]) == {"account_id", *source.key_properties}
    for name, prop in properties.items():
        assert SNAKE.match(name), f"{stream}: top-level {name!r} is not snake_case"
        assert "type" in prop, f"{stream}: top-level {name!r} is untyped"
        if name not in schema["required"]:
            assert "null" in prop["type"], f"{stream}: {name!r} is not nullable"
    if "tags" in properties:
        assert properties["tags"] == schemagen.tags_map()
    if source.replication_key:
        assert properties[source.replication_key] == schemagen.date_time()


def test_load_schema_returns_fresh_copies() -> None:
    first = schemagen.load_schema("accounts")
    first["properties"].clear()
    assert schemagen.load_schema("accounts")["properties"]
    with pytest.raises(FileNotFoundError, match="generate_schemas"):
        schemagen.load_schema("no_such_stream")


def test_stream_specific_columns() -> None:
    ec2 = schemagen.load_schema("ec2_instances")["properties"]
    assert {"reservation_id", "owner_id", "requester_id", "arn", "tags"} <= set(ec2)
    assert ec2["state"]["properties"].keys() == {"Code", "Name"}  # nested: AWS names
    assert ec2["launch_time"] == schemagen.date_time()

    accounts = schemagen.load_schema("accounts")["properties"]
    assert {"id", "arn", "email", "name", "status", "joined_timestamp", "tags"} <= set(accounts)

    s3 = schemagen.load_schema("s3_buckets")["properties"]
    assert {"name", "creation_date", "bucket_region", "arn", "region"} <= set(s3)

    ecr = schemagen.load_schema("ecr_images")
    assert "repositoryName" in ecr["properties"]["repository"]["properties"]
    assert ecr["properties"]["repository_uri"] == NULLABLE_STRING

    findings = schemagen.load_schema("ecr_findings")["properties"]
    assert findings["cvss_score"] == {"type": ["number", "null"]}
    assert findings["image_tags"]["items"] == NULLABLE_STRING
    assert "findingArn" in findings["enhanced_finding"]["properties"]
    assert "attributes" in findings["basic_finding"]["properties"]
    assert findings["image_scan_status"]["properties"].keys() == {"status", "description"}

    network = schemagen.load_schema("network")["properties"]
    for column in ("load_balancer", "classic_load_balancer"):
        tags = network[column]["properties"]["Tags"]
        assert tags["items"]["properties"].keys() == {"Key", "Value"}
    assert "Tags" in network["vpc"]["properties"]  # nested tags keep AWS's list shape
    assert network["vpc"]["properties"]["Tags"]["type"] == ["array", "null"]

    rds = schemagen.load_schema("rds_instances")["properties"]
    assert {"db_instance_arn", "arn", "tags"} <= set(rds)
    assert "tag_list" not in rds


def test_securityhub_asff() -> None:
    properties = schemagen.load_schema("securityhub_findings")["properties"]
    details = properties["resources"]["items"]["properties"]["Details"]
    assert details["type"] == ["object", "null"]
    assert "properties" not in details
    assert properties["product_fields"] == schemagen.tags_map()  # a map of strings
    assert "additionalProperties" in properties["user_defined_fields"]
    assert properties["updated_at"]["format"] == "date-time"
    assert properties["severity"]["properties"]["Label"]["type"] == ["string", "null"]


# --------------------------------------------------------------------------- records agree


def test_shaped_records_validate_and_conform() -> None:
    """Records shaped by records.shape_record validate and pass singer-sdk conformance."""
    instance = {
        "InstanceId": "i-1",
        "LaunchTime": "2024-01-01T00:00:00Z",
        "State": {"Code": 16, "Name": "running"},
        "Tags": [{"Key": "env", "Value": "prod"}],
        "NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "Groups": [{"GroupId": "sg-1"}]}],
    }
    record = shape_record(
        instance,
        account_id="123456789012",
        region="eu-west-1",
        arn="arn:aws:ec2:eu-west-1:123456789012:instance/i-1",
        reservation_id="r-1",
    )
    schema = schemagen.load_schema("ec2_instances")
    jsonschema.Draft7Validator(schema).validate(record)
    conformed = conform_record_data_types("ec2_instances", record, schema, RECURSIVE, LOGGER)
    assert conformed == record

    finding = {
        "Id": "f-1",
        "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
        "UpdatedAt": "2024-01-01T00:00:00.000Z",
        "ProductFields": {"a/b": "c"},
        "Resources": [{"Type": "AwsS3Bucket", "Id": "x", "Details": {"AwsS3Bucket": {"X": 1}}}],
    }
    record = shape_record(finding, account_id="123456789012", region="eu-west-1")
    schema = schemagen.load_schema("securityhub_findings")
    jsonschema.Draft7Validator(schema).validate(record)
    conformed = conform_record_data_types("securityhub_findings", record, schema, RECURSIVE, LOGGER)
    assert conformed == record


# --------------------------------------------------------------------------- synthetic rules


def _shapes() -> dict[str, Any]:
    string = {"type": "string"}
    shapes: dict[str, Any] = {
        "String": string,
        "Kind": {"type": "string", "enum": ["ON", "OFF"]},
        "Time": {"type": "timestamp"},
        "Long": {"type": "long"},
        "Double": {"type": "double"},
        "Blob": {"type": "blob"},
        "Flag": {"type": "boolean"},
        "Doc": {"type": "structure", "members": {}, "document": True},
        "Tag": {
            "type": "structure",
            "members": {"Key": {"shape": "String"}, "Value": {"shape": "String"}},
        },
        "TagList": {"type": "list", "member": {"shape": "Tag"}},
        "StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
        "Child": {
            "type": "structure",
            "members": {"ChildName": {"shape": "String"}, "Tags": {"shape": "TagList"}},
        },
        "ChildList": {"type": "list", "member": {"shape": "Child"}},
        "Node": {
            "type": "structure",
            "members": {"Value": {"shape": "String"}, "Children": {"shape": "NodeList"}},
        },
        "NodeList": {"type": "list", "member": {"shape": "Node"}},
        "Big": {"type": "structure", "members": {"Huge": {"shape": "Level1"}}},
        "Resource": {"type": "structure", "members": {"Details": {"shape": "Big"}}},
        "ResourceList": {"type": "list", "member": {"shape": "Resource"}},
        "Thing": {
            "type": "structure",
            "members": {
                "ThingId": {"shape": "String"},
                "CreatedAt": {"shape": "Time"},
                "Kind": {"shape": "Kind"},
                "Count": {"shape": "Long"},
                "Ratio": {"shape": "Double"},
                "Data": {"shape": "Blob"},
                "Enabled": {"shape": "Flag"},
                "Config": {"shape": "Doc"},
                "Attrs": {"shape": "StringMap"},
                "Children": {"shape": "ChildList"},
                "TagList": {"shape": "TagList"},
                "Tree": {"shape": "Node"},
                "Deep": {"shape": "Level1"},
                "Resources": {"shape": "ResourceList"},
            },
        },
    }
    for level in range(1, 12):
        shapes[f"Level{level}"] = {
            "type": "structure",
            "members": {"Leaf": {"shape": "String"}, "Next": {"shape": f"Level{level + 1}"}},
        }
    shapes["Level12"] = {"type": "structure", "members": {"Leaf": {"shape": "String"}}}
    return shapes


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ServiceModel(
        {
            "metadata": {"protocol": "json", "apiVersion": "2024-01-01"},
            "operations": {},
            "shapes": _shapes(),
        },
        service_name="synthetic",
    )
    real = schemagen._service_model
    monkeypatch.setattr(
        schemagen, "_service_model", lambda name: model if name == "synthetic" else real(name)
    )


@pytest.fixture
def thing(synthetic: None) -> dict[str, Any]:
    source = SchemaSource(
        top=AwsShape("synthetic", "Thing"),
        extra={"nested": AwsShape("synthetic", "Child"), "arn": schemagen.string()},
        key_properties=("arn", "thing_id"),
        caps=("resources[].Details",),
    )
    schema = build_schema(source)
    jsonschema.Draft7Validator.check_schema(schema)
    return schema


def test_scalars(thing: dict[str, Any]) -> None:
    p = thing["properties"]
    assert p["created_at"] == {"type": ["string", "null"], "format": "date-time"}
    assert p["count"] == {"type": ["integer", "null"]}
    assert p["ratio"] == {"type": ["number", "null"]}
    assert p["data"] == {"type": ["string", "null"]}
    assert p["enabled"] == {"type": ["boolean", "null"]}
    assert p["kind"] == {"type": ["string", "null"], "description": "One of: ON, OFF."}


def test_structure_list_map(thing: dict[str, Any]) -> None:
    p = thing["properties"]
    children = p["children"]
    assert children["type"] == ["array", "null"]
    child = children["items"]
    assert child["type"] == ["object", "null"]
    assert set(child["properties"]) == {"ChildName", "Tags"}  # nested names unrenamed
    assert child["properties"]["Tags"]["items"]["properties"].keys() == {"Key", "Value"}
    assert p["attrs"] == {"type": ["object", "null"], "additionalProperties": NULLABLE_STRING}
    assert set(p["nested"]["properties"]) == {"ChildName", "Tags"}


def test_document_is_open(thing: dict[str, Any]) -> None:
    config = thing["properties"]["config"]
    assert set(config["type"]) == {"object", "array", "string", "number", "boolean", "null"}
    assert "properties" not in config
    validator = jsonschema.Draft7Validator(config)
    for value in ({"a": [1]}, [1, "x"], "x", 1.5, 3, True, None):
        validator.validate(value)
        conform_record_data_types("s", {"config": value}, thing, RECURSIVE, LOGGER)


def test_top_level_tags_is_a_map(thing: dict[str, Any]) -> None:
    p = thing["properties"]
    assert "tag_list" not in p
    assert p["tags"] == {"type": ["object", "null"], "additionalProperties": NULLABLE_STRING}


def test_keys_required_and_non_null(thing: dict[str, Any]) -> None:
    assert thing["required"] == ["account_id", "arn", "thing_id"]
    p = thing["properties"]
    assert p["thing_id"] == {"type": "string"}
    assert p["arn"] == {"type": "string"}
    assert p["account_id"] == {"type": "string"}
    assert p["region"] == NULLABLE_STRING


def test_snake_case_top_level(thing: dict[str, Any]) -> None:
    assert set(thing["properties"]) == {
        "thing_id", "created_at", "kind", "count", "ratio", "data", "enabled", "config",
        "attrs", "children", "tags", "tree", "deep", "resources", "nested", "arn",
        "account_id", "region", "synced_at",
    }  # fmt: skip


def test_cap_recursion_and_depth(thing: dict[str, Any]) -> None:
    p = thing["properties"]
    details = p["resources"]["items"]["properties"]["Details"]
    assert details["type"] == ["object", "null"]
    assert "properties" not in details
    node = p["tree"]["properties"]["Children"]["items"]
    assert node["type"] == ["object", "null"]
    assert "properties" not in node  # recursion stops at the repeated shape
    level = p["deep"]
    for _ in range(schemagen.MAX_DEPTH - 1):
        level = level["properties"]["Next"]
        assert "properties" in level
    capped = level["properties"]["Next"]
    assert capped["type"] == ["object", "null"]
    assert "properties" not in capped


def test_bad_declarations_fail(synthetic: None) -> None:
    with pytest.raises(ValueError, match="match nothing"):
        build_schema(
            SchemaSource(top=AwsShape("synthetic", "Thing"), key_properties=(), caps=("x",))
        )
    with pytest.raises(ValueError, match="key property"):
        build_schema(SchemaSource(top=AwsShape("synthetic", "Thing"), key_properties=("nope",)))
    with pytest.raises(ValueError, match="override"):
        build_schema(
            SchemaSource(
                top=AwsShape("synthetic", "Thing"),
                key_properties=(),
                overrides={"nope": schemagen.date_time()},
            )
        )


def test_deterministic() -> None:
    for stream in ("securityhub_findings", "network"):
        assert schemagen.render_schema(schemagen.schema_for(stream)) == schemagen.render_schema(
            build_schema(SOURCES[stream])
        )


# --------------------------------------------------------------------------- CLI


def _cli() -> Any:
    spec = importlib.util.spec_from_file_location(
        "generate_schemas", ROOT / "scripts" / "generate_schemas.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _cli()
    assert cli.main(["--check", "--dir", str(tmp_path)]) == 1
    assert "accounts.json (missing)" in capsys.readouterr().err
    assert cli.main(["--dir", str(tmp_path)]) == 0
    assert cli.main(["--check", "--dir", str(tmp_path)]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == STREAMS
    (tmp_path / "network.json").write_text("{}\n")
    (tmp_path / "gone.json").write_text("{}\n")
    capsys.readouterr()
    assert cli.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "network.json (differs)" in err
    assert "gone.json (no such stream)" in err
    assert "generate_schemas.py" in err
    assert cli.main(["--dir", str(tmp_path)]) == 0
    assert not (tmp_path / "gone.json").exists()
    # what the generator gives for the installed botocore (not the committed file: CI also runs
    # this at the lowest allowed botocore, whose models may lack newer members)
    expected = schemagen.render_schema(schemagen.schema_for("network"))
    assert (tmp_path / "network.json").read_text() == expected
