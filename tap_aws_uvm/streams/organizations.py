"""The organization's accounts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

from tap_aws_uvm.client import ORGANIZATION, AwsStream, Job

LOGGER = logging.getLogger("tap-aws-uvm")


class AccountsStream(AwsStream):
    """Every account of the organization (SUSPENDED ones too), read through ``role_arn``.

    https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html
    """

    name = "accounts"
    primary_keys = ("id",)
    scope: ClassVar[str] = ORGANIZATION
    iam_actions = ("organizations:ListAccounts", "organizations:ListTagsForResource")
    # Not the management account or a delegated administrator: skipped, not a failure.
    not_enabled_errors = frozenset(
        {
            "AWSOrganizationsNotInUseException",
            "AccessDeniedException",
            "AccessDenied",
            "NoOrganizationRole",
        }
    )

    @classmethod
    def required_actions(cls, settings: Any) -> tuple[str, ...]:
        if settings is not None and not settings.accounts_include_tags:
            return ("organizations:ListAccounts",)
        return cls.iam_actions

    def fetch(self, job: Job) -> Iterator[dict[str, Any]]:
        settings = job.settings
        if not settings.role_arn:
            raise NoOrganizationRole
        organizations = job.client("organizations")
        listed = job.organization_accounts
        if listed is None:
            listed = list(job.paginate(organizations, "list_accounts", "Accounts", page_size=20))
        # The whole organization, whatever account_ids / exclude_account_ids say: they narrow
        # the accounts entered, not those listed, so no shard hides another shard's accounts.
        wanted = listed

        def tags_of(account: dict[str, Any]) -> list[dict[str, str]] | None:
            if not settings.accounts_include_tags:
                return []
            # ListTagsForResource pages have no size parameter. Denied: the account is
            # emitted without its tags (null), counted in one WARNING.
            return job.enrich(
                "organizations:ListTagsForResource",
                1,
                lambda: list(
                    job.paginate(
                        organizations,
                        "list_tags_for_resource",
                        "Tags",
                        page_size=None,
                        ResourceId=account["Id"],
                    )
                ),
            )

        for account, tags in zip(wanted, job.map(tags_of, wanted), strict=True):
            record = job.record(account, account_id=account["Id"], region=None, tags=tags)
            if tags is None:
                record["tags"] = None
            yield record


class NoOrganizationRole(Exception):
    """Organizations is read through role_arn; the other modes cannot serve `accounts`."""

    def __init__(self) -> None:
        super().__init__(
            "accounts needs role_arn (access-key and role-list modes cannot read Organizations)"
        )
