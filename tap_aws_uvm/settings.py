"""Settings: one table from which the JSON schema, the validator and the README table come.

Each :class:`Setting` holds a setting's name, type, default, whether it is a secret, its
validation and its description. ``CONFIG_SCHEMA`` (what singer-sdk advertises, and so the
``--about`` output the README's table is generated from) is built from the table, and
``validation.validate_settings`` checks every value against it, then the few rules that tie
settings together. singer-sdk's own schema validation neither enforces formats nor keeps
secrets out of its messages, so ours runs first.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.session import get_session

NETWORK_DATA_TYPES = (
    "internet_gateways",
    "nat_gateways",
    "load_balancers",
    "vpc_cidrs",
    "vpc_subnets",
    "addresses",
    "network_interfaces",
)
PARTITIONS = "aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc"
# Whole values, ASCII only: fullmatch, [0-9] and re.ASCII (\w is [A-Za-z0-9_]).
ROLE_ARN = re.compile(rf"arn:({PARTITIONS}):iam::([0-9]{{12}}):role/([\w+=,.@/-]{{1,512}})", re.A)
ACCOUNT_ID = re.compile(r"[0-9]{12}", re.A)
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.A)
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.A)
ROLE_NAME = re.compile(r"([\w+=,.@-]+/)*[\w+=,.@-]{1,64}", re.A)  # path/name, slashes stripped


class SettingsError(ValueError):
    """A setting is invalid; the message is one line, safe to print."""


@cache
def known_regions() -> dict[str, str]:
    """Every region botocore knows, mapped to its partition."""
    session = get_session()
    regions: dict[str, str] = {}
    for partition in session.get_available_partitions():
        for service in ("ec2", "sts"):
            for region in session.get_available_regions(service, partition_name=partition):
                regions[region] = partition
    return regions


# ---- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting: its JSON type, default, validation and description."""

    name: str
    kind: str  # string | boolean | integer | strings | date-time | uri
    description: str
    default: Any = None
    secret: bool = False
    required: bool = False
    pattern: re.Pattern[str] | None = None  # a string's (or each list item's) whole value
    pattern_problem: str = ""  # what the message says when the pattern does not match
    choices: tuple[str, ...] = ()  # allowed values of a string or of each list item
    low: int = 0
    high: int = 0
    star: bool = False  # a region list that may be ["*"]
    regions: bool = False  # list items are region names

    def schema(self) -> dict[str, Any]:
        json_type = {"strings": "array", "date-time": "string", "uri": "string"}.get(
            self.kind, self.kind
        )
        schema: dict[str, Any] = {"type": json_type if self.required else [json_type, "null"]}
        if self.kind == "strings":
            schema["items"] = {"type": ["string"]}
        if self.kind in {"date-time", "uri"}:
            schema["format"] = self.kind
        if self.choices and self.kind == "string":
            schema["enum"] = list(self.choices)
        if self.default is not None:
            schema["default"] = (
                list(self.default) if isinstance(self.default, tuple) else (self.default)
            )
        if self.secret:
            schema.update(secret=True, writeOnly=True)
        schema["description"] = self.description
        return schema


def _s(name: str, kind: str, description: str, **options: Any) -> Setting:
    return Setting(name, kind, description, **options)


SETTINGS: tuple[Setting, ...] = (
    # base credentials
    _s(
        "aws_access_key_id",
        "string",
        "Base credentials: access key id. Alone, syncs that key's own account.",
        secret=True,
    ),
    _s(
        "aws_secret_access_key",
        "string",
        "Base credentials: secret access key (required with the key id).",
        secret=True,
    ),
    _s(
        "aws_session_token",
        "string",
        "Base credentials: session token for temporary keys.",
        secret=True,
    ),
    _s(
        "aws_profile",
        "string",
        "Named AWS profile for the base credentials instead of keys. "
        "Without keys or profile, the ambient credential chain is used.",
    ),
    # roles
    _s(
        "role_arn",
        "string",
        "Single-role mode: assume this role (with external_id). With "
        "org_accounts, the role in the management or delegated-admin account.",
        pattern=ROLE_ARN,
        pattern_problem="is not an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)",
    ),
    _s(
        "org_accounts",
        "boolean",
        "With role_arn: sync every ACTIVE account of the "
        "organization, assuming member_role_name in each member. SUSPENDED accounts are listed "
        "by `accounts` but never entered.",
        default=False,
    ),
    _s(
        "member_role_name",
        "string",
        "Role assumed in each member account as "
        "arn:<partition>:iam::<member>:role/<member_role_name> (a path may be part of it). "
        "Default: the path and name of role_arn.",
    ),
    _s(
        "role_arns",
        "strings",
        "Multiple-roles mode: one role ARN per account. Not combinable with role_arn.",
        pattern=ROLE_ARN,
        pattern_problem="is not an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)",
    ),
    _s(
        "external_id",
        "string",
        "External ID passed to every AssumeRole (2-1224 characters).",
        secret=True,
        pattern=EXTERNAL_ID,
        pattern_problem="must be 2-1224 characters of letters, digits and +=,.@:/-_",
    ),
    _s(
        "role_session_name",
        "string",
        "Session name of every assumed role.",
        default="tap-aws-uvm",
        pattern=SESSION_NAME,
        pattern_problem="must be 2-64 characters of letters, digits and +=,.@-_",
    ),
    _s(
        "role_duration_seconds",
        "integer",
        "Lifetime of assumed-role credentials (900-43200); "
        "they refresh themselves, so a sync may run longer. Role chaining (org members) caps it "
        "at 3600.",
        default=3600,
        low=900,
        high=43200,
    ),
    # scope
    _s(
        "regions",
        "strings",
        'Region names, or ["*"] for every region enabled in each account.',
        required=True,
        star=True,
        regions=True,
    ),
    _s("exclude_regions", "strings", "Regions never synced.", regions=True),
    _s(
        "account_ids",
        "strings",
        "Only these accounts (lets an orchestrator shard one organization over many runs).",
        pattern=ACCOUNT_ID,
        pattern_problem="an account id is 12 digits",
    ),
    _s(
        "exclude_account_ids",
        "strings",
        "Accounts never synced.",
        pattern=ACCOUNT_ID,
        pattern_problem="an account id is 12 digits",
    ),
    _s(
        "accounts_include_tags",
        "boolean",
        "`accounts` reads each account's tags (one ListTagsForResource call per account).",
        default=True,
    ),
    _s(
        "network_data_types",
        "strings",
        "What the `network` stream fetches: a subset of "
        + ", ".join(NETWORK_DATA_TYPES)
        + ". An unselected type costs no API call.",
        default=NETWORK_DATA_TYPES,
        choices=NETWORK_DATA_TYPES,
    ),
    # findings
    _s("start_date", "date-time", "Lower bound of UpdatedAt for a finding stream's first sync."),
    _s(
        "findings_lookback_minutes",
        "integer",
        "Each incremental finding sync re-reads this "
        "window before the bookmark (AWS can make a finding visible after its UpdatedAt).",
        default=60,
        low=0,
        high=525600,
    ),
    # transport
    _s(
        "endpoint_url",
        "uri",
        "One endpoint for every AWS service (LocalStack, moto, a proxy). https, or plain http "
        "to a loopback address; credentials in the URL are refused.",
    ),
    _s(
        "allow_insecure_endpoint",
        "boolean",
        "Allow a plain-http endpoint_url to a host that is not loopback (e.g. a LocalStack "
        "container): assumed-role keys would cross the network in clear text.",
        default=False,
    ),
    # benchmarks/README.md: 32 leaves the fan-out below its 20x target
    _s(
        "max_concurrency",
        "integer",
        "AWS calls in flight at once, all streams together.",
        default=64,
        low=1,
        high=1024,
    ),
    _s(
        "max_attempts",
        "integer",
        "Attempts of one AWS call for throttling and 5xx errors (1-20), with capped "
        "exponential back-off; never sooner than a Retry-After the service sends.",
        default=10,
        low=1,
        high=20,
    ),
    _s(
        "retry_mode",
        "string",
        "botocore retry mode.",
        default="standard",
        choices=("standard", "adaptive"),
    ),
    _s(
        "fail_on_access_denied",
        "boolean",
        "Strict mode: any denied partition or account not entered fails the run (unreachable "
        "and failed partitions always do).",
        default=False,
    ),
    _s(
        "connect_timeout_seconds",
        "integer",
        "Seconds to wait for a connection to an AWS endpoint, per attempt.",
        default=10,
        low=1,
        high=300,
    ),
    _s(
        "read_timeout_seconds",
        "integer",
        "Seconds to wait for an answer once connected, per attempt.",
        default=30,
        low=1,
        high=900,
    ),
    _s(
        "progress_interval_seconds",
        "integer",
        "How often the progress line (partitions done, records, time left) is logged during a "
        "sync; it is logged at each stream's end too.",
        default=30,
        low=1,
        high=86400,
    ),
    _s(
        "call_timeout_seconds",
        "integer",
        "Most time one AWS call may take, retries included: refused, reset or timed-out "
        "connections are retried until then, and the partition is then unreachable.",
        default=90,
        low=1,
        high=3600,
    ),
)
BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
SECRET_SETTINGS = frozenset(setting.name for setting in SETTINGS if setting.secret)

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {setting.name: setting.schema() for setting in SETTINGS},
    "required": [setting.name for setting in SETTINGS if setting.required],
}


@dataclass(frozen=True)
class Settings:
    """Validated settings with defaults applied (one field per row of ``SETTINGS``)."""

    aws_access_key_id: str | None
    aws_secret_access_key: str | None
    aws_session_token: str | None
    aws_profile: str | None
    role_arn: str | None
    org_accounts: bool
    member_role_name: str | None
    role_arns: tuple[str, ...]
    external_id: str | None
    role_session_name: str
    role_duration_seconds: int
    regions: tuple[str, ...]
    exclude_regions: frozenset[str]
    account_ids: frozenset[str] | None
    exclude_account_ids: frozenset[str]
    accounts_include_tags: bool
    network_data_types: tuple[str, ...]
    start_date: dt.datetime | None
    findings_lookback_minutes: int
    endpoint_url: str | None
    allow_insecure_endpoint: bool
    max_concurrency: int
    max_attempts: int
    retry_mode: str
    fail_on_access_denied: bool
    connect_timeout_seconds: int
    read_timeout_seconds: int
    progress_interval_seconds: int
    call_timeout_seconds: int

    @property
    def all_regions(self) -> bool:
        return self.regions == ("*",)

    def account_in_scope(self, account_id: str) -> bool:
        if account_id in self.exclude_account_ids:
            return False
        return self.account_ids is None or account_id in self.account_ids
