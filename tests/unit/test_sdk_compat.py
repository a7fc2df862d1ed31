"""Where the tap overrides singer-sdk or botocore internals: each override still fits the pinned
version (these tests fail when an upgrade changes what the override relies on)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import os
import random
import textwrap
import threading
from typing import Any

import botocore.client
import botocore.parsers
import botocore.session
import pytest
from botocore.credentials import Credentials
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams import core
from singer_sdk.streams._state import StreamStateManager

from tap_aws_uvm import auth, sdk_compat
from tap_aws_uvm.schema_sources import SOURCES
from tap_aws_uvm.sdk_compat import IndexedStateManager, SelectionAwareRecords
from tap_aws_uvm.streams import STREAM_TYPES
from tap_aws_uvm.tap import TapAwsUvm
from tap_aws_uvm.validation import validate_settings

MANAGER_ARGUMENTS = {
    "tap_name",
    "stream_name",
    "tap_state",
    "state_partitioning_keys",
    "is_sorted",
    "check_sorted",
}


def managers() -> tuple[StreamStateManager, IndexedStateManager, dict, dict]:
    plain_state: dict = {}
    indexed_state: dict = {}
    common = {
        "tap_name": "t",
        "stream_name": "s",
        "state_partitioning_keys": None,
        "is_sorted": False,
        "check_sorted": True,
    }
    return (
        StreamStateManager(tap_state=plain_state, **common),
        IndexedStateManager(tap_state=indexed_state, **common),
        plain_state,
        indexed_state,
    )


def test_stream_still_builds_its_state_manager_as_the_override_does() -> None:
    source = inspect.getsource(core.Stream.state_manager.fget)  # type: ignore[attr-defined]
    assert "StreamStateManager(" in source
    for argument in MANAGER_ARGUMENTS:
        assert f"{argument}=" in source
    assert set(inspect.signature(StreamStateManager.__init__).parameters) - {"self"} == (
        MANAGER_ARGUMENTS
    )


def test_indexed_lookups_give_the_same_state_as_the_sdk() -> None:
    plain, indexed, plain_state, indexed_state = managers()
    rng = random.Random(5)
    contexts = [
        {"account_id": f"{n:012d}", "region": r}
        for n in range(40)
        for r in ("us-east-1", "eu-west-1")
    ]
    for step in range(2000):
        context = rng.choice(contexts)
        for manager in (plain, indexed):
            manager.get_context_state(context)["seen"] = step
    assert indexed_state == plain_state
    # a partitions list replaced or grown behind the manager's back is picked up
    indexed_state["bookmarks"]["s"]["partitions"] = [
        {"context": {"account_id": "999999999999", "region": "us-east-1"}, "mark": 1}
    ]
    assert indexed.get_context_state({"account_id": "999999999999", "region": "us-east-1"}) == {
        "context": {"account_id": "999999999999", "region": "us-east-1"},
        "mark": 1,
    }
    indexed_state["bookmarks"]["s"]["partitions"].append(
        {"context": {"account_id": "888888888888", "region": "us-east-1"}, "mark": 2}
    )
    assert (
        indexed.get_context_state({"account_id": "888888888888", "region": "us-east-1"})["mark"]
        == 2
    )


def test_duplicate_partitions_are_refused_as_the_sdk_does() -> None:
    plain, indexed, plain_state, indexed_state = managers()
    twice = [{"context": {"account_id": "1", "region": "r"}}] * 2
    for manager, state in ((plain, plain_state), (indexed, indexed_state)):
        state["bookmarks"] = {"s": {"partitions": list(twice)}}
        with pytest.raises(ValueError, match="duplicate entries"):
            manager.get_context_state({"account_id": "1", "region": "r"})


def test_validate_config_is_still_the_sdk_hook_the_tap_overrides() -> None:
    assert "self._validate_config(" in inspect.getsource(PluginBase.__init__)
    assert "_validate_config" in sdk_compat.OwnConfigValidation.__dict__
    assert TapAwsUvm._validate_config is sdk_compat.OwnConfigValidation._validate_config


def test_client_creator_override_still_fits_botocore() -> None:
    creator = botocore.client.ClientCreator
    assert creator.__module__ == sdk_compat.__name__
    base = creator.__mro__[1]
    for method in ("_create_client_class", "_load_service_model"):
        assert method in base.__dict__, method
        assert list(inspect.signature(getattr(base, method)).parameters) == list(
            inspect.signature(getattr(creator, method)).parameters
        ), method
    assert "botocore.client.ClientCreator(" in inspect.getsource(
        botocore.session.Session.create_client
    )
    client = botocore.session.Session().create_client(
        "ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    assert hasattr(client, "describe_instances")


@pytest.mark.parametrize("stream_type", [s for s in STREAM_TYPES if s.records_json_native])
def test_json_native_streams_have_no_timestamp_or_blob_shape(stream_type: type) -> None:
    top = SOURCES[stream_type.name].top
    assert top is not None
    model = botocore.session.get_session().get_service_model(top.service)
    seen: set[str] = set()
    pending = [model.shape_for(top.shape)]
    while pending:
        shape = pending.pop()
        if shape.name in seen:
            continue
        seen.add(shape.name)
        assert shape.type_name not in {"timestamp", "blob"}, shape.name
        if shape.type_name == "structure":
            pending.extend(shape.members.values())
        elif shape.type_name == "list":
            pending.append(shape.member)
        elif shape.type_name == "map":
            pending.append(shape.value)


def _data_listings(monkeypatch: pytest.MonkeyPatch, threads: int) -> int:
    """Listings of botocore's data directory while ``threads`` accounts' threads, released
    together, each make an EC2 client and ask it for a paginator (what partitions do)."""
    listings = 0
    listdir = os.listdir

    def counting(path: Any = ".") -> list[str]:
        nonlocal listings
        if str(path).rstrip("/").endswith("botocore/data"):
            listings += 1
        return listdir(path)

    monkeypatch.setattr(os, "listdir", counting)
    factory = auth.ClientFactory(validate_settings({"regions": ["us-east-1"]}))
    sessions = [factory.new_session(Credentials("testing", "testing")) for _ in range(threads)]
    start = threading.Barrier(threads)

    def partition(session: Any) -> None:
        start.wait()
        factory.client(session, "ec2", "us-east-1").get_paginator("describe_instances")

    workers = [threading.Thread(target=partition, args=(s,)) for s in sessions]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    monkeypatch.undo()
    return listings


def test_partitions_starting_together_list_botocore_data_as_one_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each listing stats ~400 directories, releasing the GIL at every stat: 52 partitions
    # missing the loader's cache together made the fan-out benchmark 25% slower.
    _data_listings(monkeypatch, 1)  # fills the process-wide model cache (auth.py) first
    alone = _data_listings(monkeypatch, 1)
    assert alone > 0
    assert _data_listings(monkeypatch, 24) == alone


def _statements(function: Any) -> list[str]:
    body = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0].body  # type: ignore[attr-defined]
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return [ast.unparse(statement) for statement in body]


def test_record_message_override_is_the_sdks_method_but_for_the_walk() -> None:
    sdk = _statements(core.Stream._generate_record_messages)
    ours = [
        s.replace("stream.", "self.")
        for s in _statements(SelectionAwareRecords._generate_record_messages)
    ]
    assert len(sdk) == 4
    assert sdk[1] == "pop_deselected_record_properties(record, self.schema, self.mask)"
    walk = "pop_deselected_record_properties(record, self.schema, mask)"
    assert f"if self._deselects:\n    {walk}" in ours
    assert ours[-2:] == [sdk[2].replace("schema=schema", "schema=self.effective_schema"), sdk[3]]
    assert sdk[0] == "schema = self.effective_schema"


# ---- the tap's steps around singer-sdk's loop ------------------------------------------------


def test_sdk_invoke_still_ends_in_sync_all_which_the_tap_wraps() -> None:
    from singer_sdk import Tap  # noqa: PLC0415

    assert _statements(Tap.invoke)[-1] == "tap.sync_all()"
    loop = inspect.getsource(Tap.sync_all)
    assert "stream.sync()" in loop
    assert "finalize_state_progress_markers" in loop
    assert TapAwsUvm.sync_all is sdk_compat.WrappedSync.sync_all
    assert "run_sync" in TapAwsUvm.__dict__


def test_config_callback_still_returns_a_config_input() -> None:
    from singer_sdk.plugin_base import _ConfigInput  # noqa: PLC0415

    fields = {f.name for f in dataclasses.fields(_ConfigInput)}
    assert fields == {"config", "parse_env"}
    made = sdk_compat.config_input({"regions": ["us-east-1"]}, parse_env=True)
    assert made == _ConfigInput(config={"regions": ["us-east-1"]}, parse_env=True)
    command = TapAwsUvm.get_singer_command()
    (option,) = [p for p in command.params if p.name == "config"]
    assert option.callback == TapAwsUvm.cb_config
    assert "cb_config" in TapAwsUvm.__dict__


def test_every_filtered_notice_is_still_one_the_sdk_logs() -> None:
    import pathlib  # noqa: PLC0415

    import singer_sdk  # noqa: PLC0415

    sources = "".join(
        path.read_text(encoding="utf-8")
        for path in pathlib.Path(singer_sdk.__file__).parent.rglob("*.py")
    )
    for fragment in sdk_compat.HARMLESS_SDK_NOTICES:
        assert fragment in sources, fragment


def test_the_tap_never_claims_or_emits_activate_version() -> None:
    from singer_sdk.helpers.capabilities import TapCapabilities  # noqa: PLC0415

    assert TapCapabilities.ACTIVATE_VERSION not in TapAwsUvm.capabilities
    assert "self.emit_activate_version_messages" in inspect.getsource(core.Stream.sync)
    for stream_type in STREAM_TYPES:
        assert stream_type.emit_activate_version_messages.fget(None) is False  # type: ignore[attr-defined]


# ---- one client per (service, region), signing with the thread's account ----------------------


class _Sent(Exception):
    pass


def test_botocore_still_asks_for_credentials_at_each_request() -> None:
    from botocore.signers import RequestSigner  # noqa: PLC0415

    source = inspect.getsource(RequestSigner.get_auth_instance)
    assert "credentials = request_credentials or self._credentials" in source
    assert "credentials.get_frozen_credentials()" in source


def test_a_shared_client_signs_each_thread_with_its_own_account() -> None:
    factory = auth.ClientFactory(validate_settings({"regions": ["us-east-1"]}))
    client = factory.shared_client("ec2", "us-east-1")
    assert factory.shared_client("ec2", "us-east-1") is client
    signed: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> None:
        signed[threading.current_thread().name] = request.headers["Authorization"].decode()
        raise _Sent

    client.meta.events.register_first("before-send", capture)
    start = threading.Barrier(8)

    def call(n: int) -> None:
        start.wait()
        with auth.bound(Credentials(f"AKIDTHREAD{n:04d}", "secret")), pytest.raises(_Sent):
            client.describe_regions()

    threads = [threading.Thread(target=call, args=(n,), name=f"t{n}") for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(signed) == {f"t{n}" for n in range(8)}
    for n in range(8):
        assert f"Credential=AKIDTHREAD{n:04d}/" in signed[f"t{n}"]


def test_a_call_with_no_account_bound_has_no_credentials() -> None:
    from botocore.exceptions import NoCredentialsError  # noqa: PLC0415

    factory = auth.ClientFactory(validate_settings({"regions": ["us-east-1"]}))
    with pytest.raises(NoCredentialsError):
        factory.shared_client("sts", "us-east-1").get_caller_identity()


# ---- Security Hub findings read as JSON -------------------------------------------------------

FINDING = {
    "SchemaVersion": "2018-10-08",
    "Id": "arn:aws:securityhub:us-east-1:111122223333:finding/1",
    "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
    "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/EC2.8",
    "AwsAccountId": "111122223333",
    "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
    "CreatedAt": "2024-05-01T12:00:00.000Z",
    "UpdatedAt": "2024-05-02T12:00:00Z",
    "Severity": {"Label": "HIGH", "Normalized": 70, "Original": "HIGH"},
    "Confidence": 90,
    "Title": "EC2 instances should use IMDSv2",
    "Description": "d",
    "ProductFields": {"StandardsArn": "arn:aws:securityhub:::standards/x", "k": "v"},
    "Resources": [
        {
            "Type": "AwsEc2Instance",
            "Id": "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
            "Region": "us-east-1",
            "Tags": {"Name": "web"},
            "Details": {"AwsEc2Instance": {"Type": "t3.micro", "IpV4Addresses": ["10.0.0.1"]}},
        }
    ],
    "Compliance": {"Status": "FAILED", "RelatedRequirements": ["NIST.800-53.r5 AC-3"]},
    "Vulnerabilities": [
        {"Id": "CVE-2024-1", "Cvss": [{"Version": "3.1", "BaseScore": 9.8}], "FixAvailable": "YES"}
    ],
    "Workflow": {"Status": "NEW"},
    "RecordState": "ACTIVE",
    "Sample": False,
}


def get_findings(parser: Any, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("securityhub")
    response = {
        "status_code": status,
        "headers": {"x-amzn-requestid": "r-1"},
        "body": json.dumps(body).encode(),
    }
    parsed: dict[str, Any] = parser.parse(
        response, model.operation_model("GetFindings").output_shape
    )
    return parsed


def test_get_findings_read_as_json_is_what_botocore_parses() -> None:
    botocores = botocore.parsers.RestJSONParser()
    raw = sdk_compat.RawFindingsParser()
    body = {"Findings": [FINDING, {**FINDING, "Id": "x-2"}], "NextToken": "t"}
    assert get_findings(raw, body) == get_findings(botocores, body)
    assert get_findings(raw, body)["ResponseMetadata"]["RequestId"] == "r-1"
    # a member the model does not know: left out at the top level of the answer (botocore
    # does the same); the stream leaves out a finding's own unknown members
    assert get_findings(raw, {**body, "Later": 1}) == get_findings(botocores, body)


def test_an_error_answer_is_parsed_by_botocore() -> None:
    error = {"__type": "InvalidAccessException", "Message": "not subscribed"}
    raw = get_findings(sdk_compat.RawFindingsParser(), error, status=403)
    assert raw == get_findings(botocore.parsers.RestJSONParser(), error, status=403)
    assert raw["Error"]["Code"] == "InvalidAccessException"


def test_the_data_clients_parse_findings_as_json_and_keep_the_timestamp_parser() -> None:
    factory = sdk_compat.TapParserFactory()
    factory.set_parser_defaults(timestamp_parser=str)
    rest_json = factory.create_parser("rest-json")
    assert type(rest_json) is sdk_compat.RawFindingsParser
    assert rest_json._timestamp_parser is str
    query = factory.create_parser("ec2")
    assert type(query) is botocore.parsers.EC2QueryParser
    assert query._timestamp_parser is str
    # what the override relies on
    for member in ("_do_parse", "_parse_body_as_json", "_populate_response_metadata"):
        assert callable(getattr(botocore.parsers.RestJSONParser, member))
    assert "_defaults" in vars(botocore.parsers.ResponseParserFactory())


def test_the_stream_leaves_out_what_the_finding_model_does_not_know() -> None:
    from tap_aws_uvm.streams.securityhub import _known  # noqa: PLC0415

    model = botocore.session.get_session().get_service_model("securityhub")
    members = frozenset(model.shape_for("AwsSecurityFinding").members)
    assert set(FINDING) <= members
    assert _known({**FINDING, "NewMember": {"a": 1}}, members) == FINDING
