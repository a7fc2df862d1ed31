"""Least-privilege IAM policies and CloudFormation templates for a tap-aws-uvm configuration.

    tap-aws-uvm-iam --config config.json [--catalog catalog.json] [--print WHAT]

Everything is derived from the IAM actions each selected stream declares
(``AwsStream.required_actions(settings)``): an unselected stream, or an unselected network data
type, costs no permission. Which role needs which action follows how :mod:`tap_aws_uvm.auth`
enters accounts:

* the **read policy** goes to every role the tap reads an account through (``role_arn`` alone,
  each of ``role_arns``, each organization member's ``member_role_name``, or the access key's
  own principal). It holds the selected streams' actions, plus ``ec2:DescribeRegions`` (each
  account's own session lists its enabled regions, explicit region lists included: that is how a
  region that is not enabled is told from a failure). The
  ``accounts`` stream reads Organizations through ``role_arn`` only, so its actions join the
  read policy in single-role mode and the management policy in organization mode, and are left
  out elsewhere (that stream emits nothing there).
* the **management policy** (organization mode) is the read policy (the management account is
  read through ``role_arn`` itself) plus ``organizations:ListAccounts`` (account discovery,
  whatever is selected), the ``accounts`` stream's actions, and ``sts:AssumeRole`` on
  ``member_role_name`` in the organization's accounts.
* the **caller policy** is what the base credentials need: ``sts:AssumeRole`` on the configured
  role(s), or the read policy itself in access-key mode. ``sts:GetCallerIdentity`` needs no
  permission. It is the caller's business, never part of a read role.

Outputs (``--print``): ``policy``, ``management-policy``, ``caller-policy``, ``account-template``
(one read role in one account), ``stackset-template`` (the member role, in every member account),
``org-template`` (the management account's role), or ``all`` (one object with every one, keyed
with underscores). Templates never contain the external ID: it is a ``NoEcho`` parameter. When
the configuration has none and a template is printed, a fresh uuid4 is proposed on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from singer_sdk.exceptions import ConfigValidationError

from tap_aws_uvm.client import ORGANIZATION, AwsStream
from tap_aws_uvm.settings import ROLE_ARN, Settings
from tap_aws_uvm.tap import TapAwsUvm

POLICY_VERSION = "2012-10-17"
TEMPLATE_VERSION = "2010-09-09"
DEFAULT_ROLE_NAME = "TapReadRole"
REGION_DISCOVERY = "ec2:DescribeRegions"
ACCOUNT_DISCOVERY = "organizations:ListAccounts"
READ_POLICY_NAME = "tap-aws-uvm-read"
ORGANIZATION_POLICY_NAME = "tap-aws-uvm-organization"
# AWS's rules for the values CloudFormation passes to IAM and STS
EXTERNAL_ID_PATTERN = r"^[\w+=,.@:/-]*$"
ROLE_NAME_PATTERN = r"^[\w+=,.@-]{1,64}$"
ROLE_PATH_PATTERN = r"^/([\w+=,.@-]+/)*$"
MEMBER_ROLE_PATTERN = r"^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$"
PRINCIPAL_PATTERN = r"^arn:[\w-]+:iam::\d{12}:(root|(user|role)/[\w+=,.@/-]+)$"
ROLE_CHAINING_MAX_SECONDS = 3600  # member roles are always assumed by a role (chaining)
CHOICES = (
    "policy",
    "management-policy",
    "caller-policy",
    "account-template",
    "stackset-template",
    "org-template",
    "all",
)
TEMPLATES = frozenset({"account-template", "stackset-template", "org-template", "all"})
PREFIX = "tap-aws-uvm-iam:"


class IamError(Exception):
    """The configuration or catalog cannot be turned into policies; one line, safe to print."""


def mode_of(settings: Settings) -> str:
    """``organization``, ``roles`` (role_arns), ``role`` (role_arn alone) or ``keys``."""
    if settings.role_arns:
        return "roles"
    if settings.role_arn and settings.org_accounts:
        return "organization"
    if settings.role_arn:
        return "role"
    return "keys"


def split_role_name(path_and_name: str) -> tuple[str, str]:
    """``("/path/", "Name")`` of ``path/Name`` (IAM's Path and RoleName)."""
    *path, name = path_and_name.strip("/").split("/")
    return ("/" + "/".join(path) + "/" if path else "/"), name


def _role_arn_name(settings: Settings) -> str | None:
    match = ROLE_ARN.fullmatch(settings.role_arn or "")
    return match.group(3) if match else None


@dataclass(frozen=True)
class Permissions:
    """The actions of one configuration and stream selection, per role."""

    settings: Settings
    streams: tuple[str, ...]  # selected stream names
    member: tuple[str, ...]  # an account read through its own role, Organizations aside
    organization_streams: tuple[str, ...]  # the selected organization-wide streams' actions

    @property
    def mode(self) -> str:
        return mode_of(self.settings)

    @property
    def read(self) -> tuple[str, ...]:
        """The read role of this configuration's mode (``policy``, ``account-template``)."""
        if self.mode == "role":  # the accounts stream reads Organizations through role_arn
            return tuple(sorted({*self.member, *self.organization_streams}))
        return self.member

    @property
    def organization(self) -> tuple[str, ...]:
        """Organization mode: the management role's Organizations actions (whatever the
        config's mode, so that the org template can be asked for from any config)."""
        return tuple(sorted({ACCOUNT_DISCOVERY, *self.organization_streams}))

    @property
    def management(self) -> tuple[str, ...]:
        """The management role: its own account, and the organization."""
        return tuple(sorted({*self.member, *self.organization}))

    @property
    def partition(self) -> str:
        """The partition of the configured roles (``aws`` when none is configured)."""
        arn = self.settings.role_arn or next(iter(self.settings.role_arns), "")
        return arn.split(":")[1] if arn.count(":") >= 5 else "aws"

    @property
    def role_name(self) -> str:
        """``path/Name`` of the role ``role_arn`` names (the management or single role)."""
        return _role_arn_name(self.settings) or DEFAULT_ROLE_NAME

    @property
    def member_role_name(self) -> str:
        """``path/Name`` of the member role, as :func:`tap_aws_uvm.auth.member_role_arn`."""
        return self.settings.member_role_name or self.role_name


def permissions(settings: Settings, stream_types: Iterable[type[AwsStream]]) -> Permissions:
    """The actions the selected ``stream_types`` call with ``settings``, split per role."""
    stream_types = list(stream_types)
    member: set[str] = set()
    organization_streams: set[str] = set()
    for stream_type in stream_types:
        actions = stream_type.required_actions(settings)
        if stream_type.scope == ORGANIZATION:
            organization_streams.update(actions)
        else:
            member.update(actions)
    if member:  # every account's enabled regions: DescribeRegions, whatever `regions` says
        member.add(REGION_DISCOVERY)
    return Permissions(
        settings=settings,
        streams=tuple(sorted(s.name for s in stream_types)),  # type: ignore[misc]
        member=tuple(sorted(member)),
        organization_streams=tuple(sorted(organization_streams)),
    )


# -- policy documents ---------------------------------------------------------------------------


def _statement(sid: str, actions: Sequence[str], resource: Any = "*") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}


def read_statements(actions: Sequence[str]) -> list[dict[str, Any]]:
    # List and describe actions over every resource of the account: most support no
    # resource-level permission, and for the others (ECR repositories, EKS clusters, RDS
    # instances, S3 buckets) "type/*" would grant the same as "*" for what the tap reads.
    return [_statement("TapAwsUvmRead", actions)] if actions else []


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}


def read_policy(perms: Permissions) -> dict[str, Any]:
    """The policy of every role the tap reads an account through."""
    return policy_document(read_statements(perms.read))


def _assume_member_statement(resource: Any) -> dict[str, Any]:
    statement = _statement("AssumeMemberRole", ["sts:AssumeRole"], resource)
    # only roles of the management role's own organization (an IAM policy variable, which
    # CloudFormation leaves alone outside Fn::Sub)
    statement["Condition"] = {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}
    return statement


def management_policy(perms: Permissions) -> dict[str, Any]:
    """Organization mode: the policy of the ``role_arn`` role in the management account."""
    member_roles = f"arn:{perms.partition}:iam::*:role/{perms.member_role_name}"
    return policy_document(
        [
            *read_statements(perms.member),
            _statement("TapAwsUvmOrganization", perms.organization),
            _assume_member_statement(member_roles),
        ]
    )


def caller_policy(perms: Permissions) -> dict[str, Any]:
    """What the base credentials need: assume the configured role(s), or read (access keys)."""
    settings = perms.settings
    if perms.mode == "keys":
        return read_policy(perms)
    roles = list(settings.role_arns) if settings.role_arns else [settings.role_arn or ""]
    return policy_document([_statement("AssumeTapRole", ["sts:AssumeRole"], roles)])


# -- CloudFormation -----------------------------------------------------------------------------


def _parameters(role_name: str, role_description: str) -> dict[str, Any]:
    role_path, name = split_role_name(role_name)
    return {
        "ExternalId": {
            "Type": "String",
            "NoEcho": True,
            "MinLength": 2,
            "MaxLength": 1224,
            "AllowedPattern": EXTERNAL_ID_PATTERN,
            "Description": "External ID the tap passes to AssumeRole (its external_id "
            "setting); 2-1224 characters of letters, digits and +=,.@:/-",
        },
        "RoleName": {
            "Type": "String",
            "Default": name,
            "AllowedPattern": ROLE_NAME_PATTERN,
            "Description": role_description,
        },
        "RolePath": {
            "Type": "String",
            "Default": role_path,
            "AllowedPattern": ROLE_PATH_PATTERN,
            "Description": "IAM path of the role ('/' or '/a/b/')",
        },
    }


def _trust_policy(principal: Any) -> dict[str, Any]:
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
            }
        ]
    )


def _role(
    description: str,
    principal: Any,
    policies: list[tuple[str, list[dict[str, Any]]]],
    max_session_seconds: int,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "RoleName": {"Ref": "RoleName"},
        "Path": {"Ref": "RolePath"},
        "Description": description,
        "AssumeRolePolicyDocument": _trust_policy(principal),
        "MaxSessionDuration": max_session_seconds,
        "Tags": [{"Key": "ManagedBy", "Value": "tap-aws-uvm"}],
    }
    documents = [
        {"PolicyName": name, "PolicyDocument": policy_document(statements)}
        for name, statements in policies
        if statements
    ]
    if documents:
        properties["Policies"] = documents
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def _outputs(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "RoleArn": {
            "Description": "The tap's role_arn (or one item of role_arns)",
            "Value": {"Fn::GetAtt": ["ReadRole", "Arn"]},
        },
        "ExternalId": {
            "Description": "The tap's external_id",
            "Value": {"Ref": "ExternalId"},
        },
        **(extra or {}),
    }


def _metadata(perms: Permissions) -> dict[str, Any]:
    settings = perms.settings
    return {
        # The ExternalId output is what the tap's external_id is set from; NoEcho still keeps
        # the value out of the stack's parameter listings and events.
        "cfn-lint": {"config": {"ignore_checks": ["W2010"]}},
        "tap-aws-uvm": {
            "generated_by": "tap-aws-uvm-iam",
            "streams": list(perms.streams),
            "network_data_types": list(settings.network_data_types),
            "regions": "all enabled" if settings.all_regions else "listed",
            "accounts_include_tags": settings.accounts_include_tags,
        },
    }


def _max_session(settings: Settings) -> int:
    return max(ROLE_CHAINING_MAX_SECONDS, settings.role_duration_seconds)


def account_template(perms: Permissions) -> dict[str, Any]:
    """One read role in one account, trusted by the principal that runs the tap."""
    parameters = _parameters(perms.role_name, "Name of the read role")
    parameters["TrustedPrincipalArn"] = {
        "Type": "String",
        "AllowedPattern": PRINCIPAL_PATTERN,
        "Description": "ARN of the principal the tap runs as (an IAM user or role, or an "
        "account's root to delegate to its IAM policies)",
    }
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "tap-aws-uvm: read-only role for one account",
        "Metadata": _metadata(perms),
        "Parameters": parameters,
        "Resources": {
            "ReadRole": _role(
                "Read-only role assumed by tap-aws-uvm",
                {"Ref": "TrustedPrincipalArn"},
                [(READ_POLICY_NAME, read_statements(perms.read))],
                _max_session(perms.settings),
            )
        },
        "Outputs": _outputs(),
    }


def stackset_template(perms: Permissions) -> dict[str, Any]:
    """The member role, deployed by a StackSet in every member account."""
    parameters = _parameters(
        perms.member_role_name, "Name of the member role (the tap's member_role_name)"
    )
    parameters["ManagementRoleArn"] = {
        "Type": "String",
        "AllowedPattern": PRINCIPAL_PATTERN,
        "Description": "ARN of the tap's role in the management account (its role_arn)",
    }
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "tap-aws-uvm: read-only member role, for a StackSet over the organization",
        "Metadata": _metadata(perms),
        "Parameters": parameters,
        "Resources": {
            "ReadRole": _role(
                "Read-only role assumed by tap-aws-uvm from the management account",
                {"Ref": "ManagementRoleArn"},
                [(READ_POLICY_NAME, read_statements(perms.member))],
                ROLE_CHAINING_MAX_SECONDS,
            )
        },
        "Outputs": _outputs(),
    }


def org_template(perms: Permissions) -> dict[str, Any]:
    """The management account's role: lists the organization, reads the account, assumes members."""
    parameters = _parameters(perms.role_name, "Name of the management role")
    parameters["TrustedPrincipalArn"] = account_template(perms)["Parameters"]["TrustedPrincipalArn"]
    parameters["MemberRoleName"] = {
        "Type": "String",
        "Default": perms.member_role_name,
        "AllowedPattern": MEMBER_ROLE_PATTERN,
        "Description": "Path and name of the member role the StackSet deploys (the tap's "
        "member_role_name, e.g. TapReadRole or security/TapReadRole)",
    }
    organization = [
        _statement("TapAwsUvmOrganization", perms.organization),
        _assume_member_statement(
            {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"}
        ),
    ]
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "tap-aws-uvm: management-account role (organization mode)",
        "Metadata": _metadata(perms),
        "Parameters": parameters,
        "Resources": {
            "ReadRole": _role(
                "tap-aws-uvm: lists the organization and assumes the member role",
                {"Ref": "TrustedPrincipalArn"},
                [
                    (READ_POLICY_NAME, read_statements(perms.member)),
                    (ORGANIZATION_POLICY_NAME, organization),
                ],
                _max_session(perms.settings),
            )
        },
        "Outputs": _outputs(
            {
                "MemberRoleName": {
                    "Description": "The tap's member_role_name",
                    "Value": {"Ref": "MemberRoleName"},
                }
            }
        ),
    }


def documents(perms: Permissions) -> dict[str, dict[str, Any]]:
    """Every output, keyed by its ``--print`` name."""
    return {
        "policy": read_policy(perms),
        "management-policy": management_policy(perms),
        "caller-policy": caller_policy(perms),
        "account-template": account_template(perms),
        "stackset-template": stackset_template(perms),
        "org-template": org_template(perms),
    }


def render(document: Any) -> str:
    return json.dumps(document, indent=2) + "\n"


# -- command line -------------------------------------------------------------------------------


def selected_permissions(
    config: list[str] | dict[str, Any], catalog: str | dict[str, Any] | None, *, env: bool
) -> Permissions:
    """Settings and stream selection exactly as the tap reads them (singer-sdk's catalog rules)."""
    try:
        tap = TapAwsUvm(
            config=config or None,  # type: ignore[arg-type]  # list[str] is list[PurePath | str]
            catalog=catalog,
            parse_env_config=env,
            validate_config=True,
        )
    except ConfigValidationError as exc:
        raise IamError(str(exc).splitlines()[0] if str(exc) else "invalid config") from None
    except (OSError, ValueError) as exc:  # a config or catalog file missing or not JSON
        raise IamError(f"cannot read the config or catalog: {type(exc).__name__}: {exc}") from None
    try:
        if tap.settings is None:  # pragma: no cover - validation sets it
            raise IamError("invalid config")
        stream_types = [type(s) for s in tap.streams.values() if s.selected]
        return permissions(tap.settings, [t for t in stream_types if issubclass(t, AwsStream)])
    finally:
        if tap.runtime is not None:
            tap.runtime.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tap-aws-uvm-iam",
        description="Print the least-privilege IAM policy and CloudFormation templates for a "
        "tap-aws-uvm config (and catalog selection) as JSON on stdout.",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="config file (repeatable, later ones win), or ENV for TAP_AWS_UVM_* variables",
    )
    parser.add_argument("--catalog", help="catalog file: only its selected streams count")
    parser.add_argument("--print", dest="what", choices=CHOICES, default="policy")
    args = parser.parse_args(argv)
    env = "ENV" in args.config
    files = [path for path in args.config if path != "ENV"]
    if not files and not env:
        parser.error("--config is required (a file, or ENV)")
    try:
        perms = selected_permissions(files, args.catalog, env=env)
    except IamError as exc:
        print(f"{PREFIX} {exc}", file=sys.stderr)
        return 1
    if not perms.streams:
        print(f"{PREFIX} no stream is selected", file=sys.stderr)
    if args.what in TEMPLATES and not perms.settings.external_id:
        print(
            f"{PREFIX} the config has no external_id; generated one (uuid4): {uuid.uuid4()} - "
            "pass it as the stacks' ExternalId parameter and set it as the tap's external_id",
            file=sys.stderr,
        )
    outputs = documents(perms)
    if args.what == "all":
        sys.stdout.write(render({key.replace("-", "_"): doc for key, doc in outputs.items()}))
    else:
        sys.stdout.write(render(outputs[args.what]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
