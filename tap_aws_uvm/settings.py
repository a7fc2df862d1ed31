"""Settings: the JSON schema singer-sdk advertises, and our own validation of every rule.

singer-sdk's schema validation neither enforces formats nor keeps secrets out of its
messages, so :func:`validate_settings` checks everything first and reports the first problem
as one line naming the setting and the value at fault (never a secret's value).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlparse

import pendulum
from botocore.session import get_session
from singer_sdk import typing as th

NETWORK_DATA_TYPES = (
    "internet_gateways",
    "nat_gateways",
    "load_balancers",
    "vpc_cidrs",
    "vpc_subnets",
    "addresses",
    "network_interfaces",
)
SECRET_SETTINGS = frozenset(
    {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "external_id"}
)
ROLE_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):iam::(\d{12}):role/([\w+=,.@/-]{1,512})$"
)
ACCOUNT_ID = re.compile(r"^\d{12}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
ROLE_NAME = re.compile(r"^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")  # path/name, slashes stripped

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "aws_access_key_id",
        th.StringType,
        secret=True,
        description="Base credentials: access key id. Alone, syncs that key's own account.",
    ),
    th.Property(
        "aws_secret_access_key",
        th.StringType,
        secret=True,
        description="Base credentials: secret access key (required with the key id).",
    ),
    th.Property(
        "aws_session_token",
        th.StringType,
        secret=True,
        description="Base credentials: session token for temporary keys.",
    ),
    th.Property(
        "aws_profile",
        th.StringType,
        description="Named AWS profile for the base credentials instead of keys. Without "
        "keys or profile, the ambient credential chain is used.",
    ),
    th.Property(
        "role_arn",
        th.StringType,
        description="Single-role mode: assume this role (with external_id). With "
        "org_accounts, the role in the management or delegated-admin account.",
    ),
    th.Property(
        "org_accounts",
        th.BooleanType,
        default=False,
        description="With role_arn: sync every ACTIVE account of the organization, "
        "assuming member_role_name in each member. SUSPENDED accounts are listed by "
        "`accounts` but never entered.",
    ),
    th.Property(
        "member_role_name",
        th.StringType,
        description="Role assumed in each member account as "
        "arn:<partition>:iam::<member>:role/<member_role_name> (a path may be part of "
        "it). Default: the path and name of role_arn.",
    ),
    th.Property(
        "role_arns",
        th.ArrayType(th.StringType),
        description="Multiple-roles mode: one role ARN per account. Not combinable with role_arn.",
    ),
    th.Property(
        "external_id",
        th.StringType,
        secret=True,
        description="External ID passed to every AssumeRole (2-1224 characters).",
    ),
    th.Property(
        "role_session_name",
        th.StringType,
        default="tap-aws-uvm",
        description="Session name of every assumed role.",
    ),
    th.Property(
        "role_duration_seconds",
        th.IntegerType,
        default=3600,
        description="Lifetime of assumed-role credentials (900-43200); they refresh "
        "themselves, so a sync may run longer. Role chaining (org members) caps it at "
        "3600.",
    ),
    th.Property(
        "regions",
        th.ArrayType(th.StringType),
        required=True,
        description='Region names, or ["*"] for every region enabled in each account.',
    ),
    th.Property(
        "exclude_regions", th.ArrayType(th.StringType), description="Regions never synced."
    ),
    th.Property(
        "account_ids",
        th.ArrayType(th.StringType),
        description="Only these accounts (lets an orchestrator shard one organization "
        "over many runs).",
    ),
    th.Property(
        "exclude_account_ids", th.ArrayType(th.StringType), description="Accounts never synced."
    ),
    th.Property(
        "accounts_include_tags",
        th.BooleanType,
        default=True,
        description="`accounts` reads each account's tags (one ListTagsForResource call "
        "per account).",
    ),
    th.Property(
        "network_data_types",
        th.ArrayType(th.StringType),
        default=list(NETWORK_DATA_TYPES),
        description="What the `network` stream fetches: a subset of "
        + ", ".join(NETWORK_DATA_TYPES)
        + ". An unselected type costs no API call.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Lower bound of UpdatedAt for a finding stream's first sync.",
    ),
    th.Property(
        "findings_lookback_minutes",
        th.IntegerType,
        default=60,
        description="Each incremental finding sync re-reads this window before the "
        "bookmark (AWS can make a finding visible after its UpdatedAt).",
    ),
    th.Property(
        "endpoint_url",
        th.URIType,
        description="One endpoint for every AWS service (LocalStack, moto, a proxy).",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType,
        default=64,  # benchmarks/README.md: 32 leaves the fan-out below its 20x target
        description="AWS calls in flight at once, all streams together.",
    ),
    th.Property(
        "max_attempts",
        th.IntegerType,
        default=10,
        description="botocore retry attempts for throttling and 5xx errors.",
    ),
    th.Property(
        "retry_mode",
        th.StringType,
        default="standard",
        allowed_values=["standard", "adaptive"],
        description="botocore retry mode.",
    ),
    th.Property(
        "fail_on_access_denied",
        th.BooleanType,
        default=False,
        description="Strict mode: any denied or failed partition fails the run.",
    ),
).to_dict()


class SettingsError(ValueError):
    """A setting is invalid; the message is one line, safe to print."""


@dataclass(frozen=True)
class Settings:
    """Validated settings with defaults applied."""

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
    max_concurrency: int
    max_attempts: int
    retry_mode: str
    fail_on_access_denied: bool

    @property
    def all_regions(self) -> bool:
        return self.regions == ("*",)

    def account_in_scope(self, account_id: str) -> bool:
        if account_id in self.exclude_account_ids:
            return False
        return self.account_ids is None or account_id in self.account_ids


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


def _fail(setting: str, problem: str, value: Any = None, *, show: bool = True) -> SettingsError:
    if setting in SECRET_SETTINGS or not show:
        return SettingsError(f"Invalid setting '{setting}': {problem} (value not shown)")
    return SettingsError(f"Invalid setting '{setting}': {problem}, got {value!r}")


def _string(config: Mapping[str, Any], name: str) -> str | None:
    value = config.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(name, "must be a string", value)
    if not value:
        raise _fail(name, "must not be empty", value)
    return value


def _boolean(config: Mapping[str, Any], name: str, default: bool) -> bool:
    value = config.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _fail(name, "must be true or false", value)
    return value


def _integer(config: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = config.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, "must be an integer", value)
    if not low <= value <= high:
        raise _fail(name, f"must be between {low} and {high}", value)
    return value


def _strings(config: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    value = config.get(name)
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(i, str) for i in value):
        raise _fail(name, "must be a list of strings", value)
    if not value:
        raise _fail(name, "must not be an empty list (leave it unset instead)", value)
    if len(set(value)) != len(value):
        raise _fail(name, "lists a value twice", value)
    return tuple(value)


def _region_list(config: Mapping[str, Any], name: str, *, star: bool) -> tuple[str, ...] | None:
    regions = _strings(config, name)
    if regions is None:
        return None
    if star and "*" in regions:
        if regions != ("*",):
            raise _fail(name, '"*" must stand alone', list(regions))
        return regions
    unknown = [region for region in regions if region not in known_regions()]
    if unknown:
        raise _fail(name, "unknown AWS region", unknown[0])
    return regions


def _account_list(config: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    accounts = _strings(config, name)
    for account in accounts or ():
        if not ACCOUNT_ID.match(account):
            raise _fail(name, "an account id is 12 digits", account)
    return accounts


def _start_date(config: Mapping[str, Any]) -> dt.datetime | None:
    value = config.get("start_date")
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail("start_date", "must be an ISO 8601 date-time string", value)
    try:
        parsed = pendulum.parse(value, strict=True)
    except (ValueError, TypeError, pendulum.parsing.exceptions.ParserError):
        raise _fail("start_date", "is not an ISO 8601 date-time", value) from None
    if isinstance(parsed, pendulum.Date) and not isinstance(parsed, pendulum.DateTime):
        parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day)
    if not isinstance(parsed, dt.datetime):
        raise _fail("start_date", "is not an ISO 8601 date-time", value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(parsed.timestamp(), tz=dt.UTC)


def _endpoint(config: Mapping[str, Any]) -> str | None:
    value = _string(config, "endpoint_url")
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise _fail("endpoint_url", "must be an http(s) URL with a host", value)
    try:
        _ = parsed.port
    except ValueError:
        raise _fail("endpoint_url", "has an invalid port", value) from None
    return value


def _role_arn(name: str, value: str) -> str:
    if not ROLE_ARN.match(value):
        raise _fail(
            name, "is not an IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>)", value
        )
    return value


def validate_settings(config: Mapping[str, Any]) -> Settings:
    """Check every rule of the contract; raise :class:`SettingsError` on the first problem."""
    key_id = _string(config, "aws_access_key_id")
    secret = _string(config, "aws_secret_access_key")
    token = _string(config, "aws_session_token")
    profile = _string(config, "aws_profile")
    if key_id and not secret:
        raise SettingsError(
            "Invalid setting 'aws_secret_access_key': required with "
            "aws_access_key_id (value not shown)"
        )
    if secret and not key_id:
        raise SettingsError(
            "Invalid setting 'aws_access_key_id': required with "
            "aws_secret_access_key (value not shown)"
        )
    if token and not key_id:
        raise SettingsError(
            "Invalid setting 'aws_session_token': needs aws_access_key_id and "
            "aws_secret_access_key (value not shown)"
        )
    if profile and key_id:
        raise _fail("aws_profile", "cannot be combined with aws_access_key_id", profile)

    role_arn = _string(config, "role_arn")
    if role_arn is not None:
        _role_arn("role_arn", role_arn)
    role_arns = _strings(config, "role_arns") or ()
    for arn in role_arns:
        _role_arn("role_arns", arn)
    if role_arn and role_arns:
        raise _fail("role_arns", "cannot be combined with role_arn", list(role_arns))
    accounts_seen: set[str] = set()
    for arn in role_arns:
        account = ROLE_ARN.match(arn).group(2)  # type: ignore[union-attr]
        if account in accounts_seen:
            raise _fail("role_arns", f"names account {account} twice", arn)
        accounts_seen.add(account)
    org_accounts = _boolean(config, "org_accounts", False)
    if org_accounts and not role_arn:
        raise _fail(
            "org_accounts",
            "needs role_arn (the organization's management or delegated-admin role)",
            org_accounts,
        )
    member_role_name = _string(config, "member_role_name")
    if member_role_name is not None and not ROLE_NAME.match(member_role_name.strip("/")):
        raise _fail("member_role_name", "is not an IAM role name or path/name", member_role_name)

    external_id = _string(config, "external_id")
    if external_id is not None and not EXTERNAL_ID.match(external_id):
        raise _fail("external_id", "must be 2-1224 characters of letters, digits and +=,.@:/-_")
    session_name = _string(config, "role_session_name") or "tap-aws-uvm"
    if not SESSION_NAME.match(session_name):
        raise _fail(
            "role_session_name",
            "must be 2-64 characters of letters, digits and +=,.@-_",
            session_name,
        )
    duration = _integer(config, "role_duration_seconds", 3600, 900, 43200)

    if config.get("regions") is None:
        raise SettingsError(
            "Invalid setting 'regions': required (region names, or [\"*\"] for "
            "every enabled region)"
        )
    regions = _region_list(config, "regions", star=True) or ()
    exclude_regions = frozenset(_region_list(config, "exclude_regions", star=False) or ())
    if not regions[0] == "*" and not set(regions) - exclude_regions:
        raise _fail(
            "exclude_regions", "excludes every region of 'regions'", sorted(exclude_regions)
        )
    account_ids = _account_list(config, "account_ids")
    exclude_account_ids = frozenset(_account_list(config, "exclude_account_ids") or ())

    data_types = _strings(config, "network_data_types") or NETWORK_DATA_TYPES
    unknown = [item for item in data_types if item not in NETWORK_DATA_TYPES]
    if unknown:
        raise _fail(
            "network_data_types",
            "unknown data type (one of " + ", ".join(NETWORK_DATA_TYPES) + ")",
            unknown[0],
        )

    retry_mode = _string(config, "retry_mode") or "standard"
    if retry_mode not in {"standard", "adaptive"}:
        raise _fail("retry_mode", 'must be "standard" or "adaptive"', retry_mode)

    return Settings(
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        aws_profile=profile,
        role_arn=role_arn,
        org_accounts=org_accounts,
        member_role_name=member_role_name.strip("/") if member_role_name else None,
        role_arns=role_arns,
        external_id=external_id,
        role_session_name=session_name,
        role_duration_seconds=duration,
        regions=regions,
        exclude_regions=exclude_regions,
        account_ids=frozenset(account_ids) if account_ids is not None else None,
        exclude_account_ids=exclude_account_ids,
        accounts_include_tags=_boolean(config, "accounts_include_tags", True),
        network_data_types=tuple(data_types),
        start_date=_start_date(config),
        findings_lookback_minutes=_integer(config, "findings_lookback_minutes", 60, 0, 525600),
        endpoint_url=_endpoint(config),
        max_concurrency=_integer(config, "max_concurrency", 64, 1, 1024),
        max_attempts=_integer(config, "max_attempts", 10, 1, 100),
        retry_mode=retry_mode,
        fail_on_access_denied=_boolean(config, "fail_on_access_denied", False),
    )
