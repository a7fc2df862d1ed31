"""Checking settings against the table in ``settings.py``: each value, then the rules that tie
settings together. The first problem is one line naming the setting and the value at fault
(never a secret's value)."""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

import pendulum

from tap_aws_uvm.settings import (
    ROLE_NAME,
    SECRET_SETTINGS,
    SETTINGS,
    Setting,
    Settings,
    SettingsError,
    known_regions,
)

# ---- checking one value ---------------------------------------------------------------------


def _fail(setting: str, problem: str, value: Any = None, *, show: bool = True) -> SettingsError:
    if setting in SECRET_SETTINGS or not show:
        return SettingsError(f"Invalid setting '{setting}': {problem} (value not shown)")
    return SettingsError(f"Invalid setting '{setting}': {problem}, got {value!r}")


def _check_string(setting: Setting, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(setting.name, "must be a string", value)
    if not value:
        raise _fail(setting.name, "must not be empty", value)
    if setting.pattern is not None and not setting.pattern.fullmatch(value):
        raise _fail(setting.name, setting.pattern_problem, value)
    if setting.choices and value not in setting.choices:
        raise _fail(
            setting.name, "must be " + " or ".join(f'"{c}"' for c in setting.choices), value
        )
    return value


def _check_strings(setting: Setting, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(i, str) for i in value):
        raise _fail(setting.name, "must be a list of strings", value)
    if not value:
        raise _fail(setting.name, "must not be an empty list (leave it unset instead)", value)
    if len(set(value)) != len(value):
        raise _fail(setting.name, "lists a value twice", value)
    items = tuple(value)
    if setting.star and "*" in items:
        if items != ("*",):
            raise _fail(setting.name, '"*" must stand alone', list(items))
        return items
    for item in items:
        if setting.regions and item not in known_regions():
            raise _fail(setting.name, "unknown AWS region", item)
        if setting.pattern is not None and not setting.pattern.fullmatch(item):
            raise _fail(setting.name, setting.pattern_problem, item)
        if setting.choices and item not in setting.choices:
            raise _fail(setting.name, f"unknown value (one of {', '.join(setting.choices)})", item)
    return items


def _check_integer(setting: Setting, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(setting.name, "must be an integer", value)
    if not setting.low <= value <= setting.high:
        raise _fail(setting.name, f"must be between {setting.low} and {setting.high}", value)
    return value


def _check_boolean(setting: Setting, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(setting.name, "must be true or false", value)
    return value


def _check_date_time(setting: Setting, value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise _fail(setting.name, "must be an ISO 8601 date-time string", value)
    try:
        parsed = pendulum.parse(value, strict=True)
    except (ValueError, TypeError, pendulum.parsing.exceptions.ParserError):
        raise _fail(setting.name, "is not an ISO 8601 date-time", value) from None
    if isinstance(parsed, pendulum.Date) and not isinstance(parsed, pendulum.DateTime):
        parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day)
    if not isinstance(parsed, dt.datetime):
        raise _fail(setting.name, "is not an ISO 8601 date-time", value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(parsed.timestamp(), tz=dt.UTC)


def _check_uri(setting: Setting, value: Any) -> str:
    text = _check_string(setting, value)
    if not text.isascii() or any(ord(c) < 33 or ord(c) == 127 for c in text):
        raise _fail(setting.name, "must be a URL without spaces or control characters", show=False)
    parsed = urlparse(text)
    if parsed.username is not None or parsed.password is not None:
        raise _fail(setting.name, "must not carry credentials (user:password@)", show=False)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise _fail(setting.name, "must be an http(s) URL with a host", text)
    try:
        _ = parsed.port
    except ValueError:
        raise _fail(setting.name, "has an invalid port", text) from None
    return text


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_CHECKS: dict[str, Callable[[Setting, Any], Any]] = {
    "string": _check_string,
    "strings": _check_strings,
    "integer": _check_integer,
    "boolean": _check_boolean,
    "date-time": _check_date_time,
    "uri": _check_uri,
}


def _checked(config: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting's checked value, or its default."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = config.get(setting.name)
        if value is None:
            if setting.required:
                raise SettingsError(
                    f"Invalid setting '{setting.name}': required ({setting.description})"
                )
            values[setting.name] = setting.default
        else:
            values[setting.name] = _CHECKS[setting.kind](setting, value)
    return values


# ---- rules across settings ------------------------------------------------------------------


def _credentials_go_together(v: dict[str, Any]) -> None:
    key_id, secret = v["aws_access_key_id"], v["aws_secret_access_key"]
    if key_id and not secret:
        raise _fail("aws_secret_access_key", "required with aws_access_key_id", show=False)
    if secret and not key_id:
        raise _fail("aws_access_key_id", "required with aws_secret_access_key", show=False)
    if v["aws_session_token"] and not key_id:
        raise _fail(
            "aws_session_token", "needs aws_access_key_id and aws_secret_access_key", show=False
        )
    if v["aws_profile"] and key_id:
        raise _fail("aws_profile", "cannot be combined with aws_access_key_id", v["aws_profile"])


def _one_mode(v: dict[str, Any]) -> None:
    role_arns = v["role_arns"] or ()
    if v["role_arn"] and role_arns:
        raise _fail("role_arns", "cannot be combined with role_arn", list(role_arns))
    seen: set[str] = set()
    for arn in role_arns:
        account = arn.split(":")[4]
        if account in seen:
            raise _fail("role_arns", f"names account {account} twice", arn)
        seen.add(account)
    if v["org_accounts"] and not v["role_arn"]:
        raise _fail(
            "org_accounts",
            "needs role_arn (the organization's management or delegated-admin role)",
            True,
        )
    name = v["member_role_name"]
    if name is not None and not ROLE_NAME.fullmatch(name.strip("/")):
        raise _fail("member_role_name", "is not an IAM role name or path/name", name)


def _some_region_left(v: dict[str, Any]) -> None:
    regions, excluded = v["regions"], set(v["exclude_regions"] or ())
    if regions != ("*",) and not set(regions) - excluded:
        raise _fail("exclude_regions", "excludes every region of 'regions'", sorted(excluded))


def _no_clear_text_keys(v: dict[str, Any]) -> None:
    url = v["endpoint_url"]
    if url is None or v["allow_insecure_endpoint"]:
        return
    parsed = urlparse(url)
    if parsed.scheme == "http" and not is_loopback(parsed.hostname or ""):
        raise _fail(
            "endpoint_url",
            "plain http to a host that is not loopback would send AWS keys in clear text: use "
            "https, or set allow_insecure_endpoint (e.g. for a LocalStack container)",
            url,
        )


RULES: tuple[Callable[[dict[str, Any]], None], ...] = (
    _credentials_go_together,
    _one_mode,
    _some_region_left,
    _no_clear_text_keys,
)


def unknown_settings(config: Mapping[str, Any], known: Iterable[str]) -> SettingsError | None:
    """An error naming the first key that is no setting, with the closest one; else None."""
    known = set(known)
    for key in config:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return SettingsError(f"Unknown setting '{key}'{hint}: not a setting of tap-aws-uvm")
    return None


def validate_settings(config: Mapping[str, Any]) -> Settings:
    """Check every value, then every rule; raise :class:`SettingsError` on the first problem."""
    values = _checked(config)
    for rule in RULES:
        rule(values)
    name = values["member_role_name"]
    values.update(
        role_arns=values["role_arns"] or (),
        member_role_name=name.strip("/") if name else None,
        exclude_regions=frozenset(values["exclude_regions"] or ()),
        account_ids=None if values["account_ids"] is None else frozenset(values["account_ids"]),
        exclude_account_ids=frozenset(values["exclude_account_ids"] or ()),
        network_data_types=tuple(values["network_data_types"]),
    )
    return Settings(**values)
