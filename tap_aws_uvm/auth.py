"""Base credentials, self-refreshing assumed roles, and the accounts a sync enters.

One botocore data loader is shared by every session, so service models are read once per
process however many accounts are entered. Assumed roles are botocore
``RefreshableCredentials``: botocore refreshes them before expiry, on whatever thread needs
them, so a sync may outlive any one set of credentials.

**One client per (service, region), whatever the number of accounts.** A botocore client
costs ~120 KB and 2-4 ms of CPU to build; one per (account, service, region) kept for the
sync grew to gigabytes at organization scale. The clients that read accounts are shared
instead: they sign every request with ``BoundCredentials``, which hands botocore's signer the
credentials of the account the calling thread is bound to (``bound(account.credentials)``,
around each call: ``client.Job``). botocore clients are thread-safe and look their
credentials up for each request (a guard test in tests/unit/test_sdk_compat.py checks that).
STS keeps clients of the sessions it assumes roles from (the base credentials, the management
account's role): a refresh in the middle of another account's call signs with its source.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import botocore.client
import botocore.session
from botocore.client import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    RefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, DataNotFoundError, NoCredentialsError
from botocore.hooks import HierarchicalEmitter
from botocore.loaders import Loader, create_loader

from tap_aws_uvm.errors import error_code, error_message
from tap_aws_uvm.records import aws_timestamp
from tap_aws_uvm.sdk_compat import TapParserFactory, share_models
from tap_aws_uvm.settings import ROLE_ARN, Settings, known_regions

if TYPE_CHECKING:
    from tap_aws_uvm.retries import CallPolicy

LOGGER = logging.getLogger("tap-aws-uvm")
USER_AGENT = "tap-aws-uvm"
# Role chaining (a role assuming a member role) is capped by AWS at one hour.
ROLE_CHAINING_MAX_SECONDS = 3600
PARTITION_HOME_REGION = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}


class AccountEntryError(Exception):
    """A role could not be assumed; the message says which and why, on one line."""

    def __init__(self, message: str, code: str = "AccountEntryError") -> None:
        super().__init__(message)
        self.code = code

    @classmethod
    def of(cls, what: str, exc: BaseException) -> AccountEntryError:
        code = error_code(exc)
        return cls(f"{what}: {code}: {error_message(exc)}", code)


def partition_of_arn(arn: str) -> str:
    return arn.split(":", 2)[1]


def home_region(partition: str) -> str:
    """The region used for account-wide calls (STS, S3 ListBuckets, Organizations)."""
    if partition in PARTITION_HOME_REGION:
        return PARTITION_HOME_REGION[partition]
    return next(region for region, part in known_regions().items() if part == partition)


class _FixedProvider(CredentialProvider):
    """Hands a session one credentials object (typically a refreshable one)."""

    METHOD = "tap-aws-uvm"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


_BOUND = threading.local()


@contextlib.contextmanager
def bound(credentials: Any) -> Iterator[None]:
    """Calls of this thread sign with ``credentials`` (nested bindings stack)."""
    stack: list[Any] | None = getattr(_BOUND, "stack", None)
    if stack is None:
        stack = _BOUND.stack = []
    stack.append(credentials)
    try:
        yield
    finally:
        stack.pop()


class BoundCredentials(Credentials):
    """What the shared clients sign with: the credentials bound to the calling thread. A
    botocore ``Credentials`` (clients read ``get_deferred_property`` while they are built), but
    every value is the bound account's."""

    def __init__(self) -> None:  # no super().__init__: there is no key of its own
        self.method = "tap-aws-uvm-bound"
        self.account_id = None  # no account-id endpoint for a client every account shares

    @staticmethod
    def current() -> Any:
        stack = getattr(_BOUND, "stack", None)
        if not stack:
            raise NoCredentialsError()
        return stack[-1]

    def get_frozen_credentials(self) -> Any:
        return self.current().get_frozen_credentials()

    @property
    def access_key(self) -> str:  # type: ignore[override]
        return str(self.get_frozen_credentials().access_key)

    @property
    def secret_key(self) -> str:  # type: ignore[override]
        return str(self.get_frozen_credentials().secret_key)

    @property
    def token(self) -> str | None:  # type: ignore[override]
        token: str | None = self.get_frozen_credentials().token
        return token


@dataclass
class Account:
    """An account the sync reads: its credentials (refreshing themselves for a role), and a
    session only where the account is a source of roles (the base, the management role)."""

    account_id: str
    partition: str
    credentials: Any = field(repr=False)
    session: botocore.session.Session | None = field(default=None, repr=False)
    role_arn: str | None = None
    name: str | None = None


class ClientFactory:
    """Sessions and clients: one shared loader, one botocore ``Config``, cached clients."""

    def __init__(self, settings: Settings, policy: CallPolicy | None = None) -> None:
        self.settings = settings
        self._loader: Loader = create_loader()
        # botocore's builtin event handlers, registered once and copied into every session:
        # registering them costs ~8 ms of CPU a session, a copy <1 ms (one session an account).
        self._hooks = HierarchicalEmitter()
        botocore.session.Session(event_hooks=self._hooks)
        if policy is not None:  # pacing, retries and timeouts of every call (retries.py)
            policy.install(self._hooks)
        self._clients: dict[tuple[int, str, str], Any] = {}  # STS and entry: per source session
        self._shared: dict[tuple[str, str], Any] = {}  # everything else: per (service, region)
        self._bound_session: botocore.session.Session | None = None
        self._primed: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        # One attempt per botocore call: retries are the CallPolicy's (retries.py). "adaptive"
        # keeps botocore's client-side rate limiter.
        retries: Any = {"mode": settings.retry_mode, "total_max_attempts": 1}
        self.config = Config(
            retries=retries,
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            max_pool_connections=max(10, settings.max_concurrency),
            user_agent_extra=USER_AGENT,
        )

    def new_session(self, credentials: Any = None) -> botocore.session.Session:
        session = botocore.session.Session(
            event_hooks=copy.copy(self._hooks),
            include_builtin_handlers=False,
            profile=None if credentials else self.settings.aws_profile,
        )
        session.register_component("data_loader", self._loader)
        share_models(session)
        if credentials is not None:
            session.register_component(
                "credential_provider", CredentialResolver([_FixedProvider(credentials)])
            )
        elif self.settings.aws_access_key_id:
            session.set_credentials(
                self.settings.aws_access_key_id,
                self.settings.aws_secret_access_key or "",
                self.settings.aws_session_token,
            )
        return session

    def client(self, session: botocore.session.Session, service: str, region: str) -> Any:
        key = (id(session), service, region)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = session.create_client(
                        service,
                        region_name=region,
                        endpoint_url=self.settings.endpoint_url,
                        config=self.config,
                    )
                    self._clients[key] = client
                    self._prime_paginators(client)
        return client

    def shared_client(self, service: str, region: str) -> Any:
        """The one client of ``service`` in ``region`` every account's calls share; it signs
        with the credentials bound to the calling thread (``bound``)."""
        key = (service, region)
        client = self._shared.get(key)
        if client is None:
            with self._lock:
                client = self._shared.get(key)
                if client is None:
                    if self._bound_session is None:
                        self._bound_session = self.new_session(BoundCredentials())
                        # records want timestamps as strings: parsed once, straight to them
                        parsers = TapParserFactory()
                        parsers.set_parser_defaults(timestamp_parser=aws_timestamp)
                        self._bound_session.register_component("response_parser_factory", parsers)
                    client = self._bound_session.create_client(
                        service,
                        region_name=region,
                        endpoint_url=self.settings.endpoint_url,
                        config=self.config,
                    )
                    self._shared[key] = client
                    self._prime_paginators(client)
        return client

    def _prime_paginators(self, client: Any) -> None:
        """Load a service's paginator models once, before threads ask for them.

        Each new client loads them on its first ``get_paginator`` through the shared loader,
        whose cache fills only after a load returns: the partitions that start together
        (52 at 13 accounts x 4 regions) would all miss it at once and each list and stat
        botocore's ~400 data directories, every stat releasing and retaking the GIL.
        """
        model = client.meta.service_model
        key = (model.service_name, model.api_version)
        if key in self._primed:
            return
        self._primed.add(key)
        with contextlib.suppress(DataNotFoundError):  # a service without paginators
            self._loader.load_service_model(model.service_name, "paginators-1", model.api_version)

    def assume_role(
        self,
        source: botocore.session.Session,
        role_arn: str,
        *,
        duration: int,
    ) -> RefreshableCredentials:
        """Credentials of ``role_arn`` that refresh themselves before they expire.

        Refreshes start in the last quarter of the credentials' lifetime (at most 15 minutes
        before expiry; botocore's fixed windows would refresh 900-second credentials on
        every call).
        """
        partition = partition_of_arn(role_arn)
        sts = self.client(source, "sts", home_region(partition))
        params: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": self.settings.role_session_name,
            "DurationSeconds": duration,
        }
        if self.settings.external_id:
            params["ExternalId"] = self.settings.external_id

        def fetch() -> dict[str, Any]:
            answer = sts.assume_role(**params)["Credentials"]
            return {
                "access_key": answer["AccessKeyId"],
                "secret_key": answer["SecretAccessKey"],
                "token": answer["SessionToken"],
                "expiry_time": answer["Expiration"].astimezone(dt.UTC).isoformat(),
            }

        try:
            metadata = fetch()
        except Exception as exc:
            raise AccountEntryError.of(f"could not assume role {role_arn}", exc) from exc
        lifetime = (
            dt.datetime.fromisoformat(metadata["expiry_time"]) - dt.datetime.now(dt.UTC)
        ).total_seconds()
        advisory = max(1, int(min(15 * 60, lifetime / 4)))
        return RefreshableCredentials.create_from_metadata(
            metadata,
            refresh_using=fetch,
            method="sts-assume-role",
            advisory_timeout=advisory,
            mandatory_timeout=max(1, int(min(10 * 60, lifetime / 6))),
        )

    def caller_account(self, session: botocore.session.Session) -> tuple[str, str]:
        """(account id, partition) of a session's own credentials.

        STS is asked in the home region of the credentials' partition: the partition of the
        configured regions, or with ``["*"]`` of the session's own region (profile or
        environment), else ``aws``; GovCloud and China credentials are unknown elsewhere.
        """
        partition = base_partition(self.settings, session.get_config_variable("region"))
        sts = self.client(session, "sts", home_region(partition))
        try:
            arn = sts.get_caller_identity()["Arn"]
        except Exception as exc:
            raise AccountEntryError.of("could not identify the base credentials", exc) from exc
        return arn.split(":")[4], partition_of_arn(arn)


def base_partition(settings: Settings, session_region: str | None) -> str:
    """The partition base credentials belong to, before any call: from the regions."""
    partitions = known_regions()
    for region in settings.regions:
        if region in partitions:
            return partitions[region]
    return partitions.get(session_region or "", "aws")


def member_role_arn(settings: Settings, partition: str, account_id: str) -> str:
    """The role assumed in an organization member, built with the member's partition."""
    name = settings.member_role_name
    if not name:
        match = ROLE_ARN.fullmatch(settings.role_arn or "")
        name = match.group(3) if match else "OrganizationAccountAccessRole"
    return f"arn:{partition}:iam::{account_id}:role/{name}"


def account_of_role(role_arn: str) -> str:
    return role_arn.split(":")[4]


def account_state(account: dict[str, Any]) -> str:
    """An organization account's State (Status was retired on 2026-09-09)."""
    return str(account.get("State") or account.get("Status") or "")


@dataclass
class Entry:
    """The outcome of entering accounts: who is in, who was skipped and why."""

    accounts: list[Account]
    skipped: dict[str, AccountEntryError]  # account id -> why it was not entered
    organization_accounts: list[dict[str, Any]] | None = None  # ListAccounts, when read
    organization_account: Account | None = None  # role_arn's, Organizations is read through
    suspended: list[dict[str, Any]] = field(default_factory=list)  # listed, in scope, not ACTIVE


def enter_accounts(
    settings: Settings,
    factory: ClientFactory,
    run_all: Callable[[list[Callable[[], Any]]], list[Any]],
) -> Entry:
    """Enter every account of the configured mode; ``run_all`` runs calls concurrently."""
    try:
        base = factory.new_session()
        credentials = base.get_credentials()
    except BotoCoreError as exc:
        raise AccountEntryError.of("could not load the base credentials", exc) from exc
    if settings.role_arns:
        return _enter_roles(settings, factory, base, list(settings.role_arns), run_all)
    if settings.role_arn and settings.org_accounts:
        return _enter_organization(settings, factory, base, run_all)
    if settings.role_arn:
        return _enter_roles(settings, factory, base, [settings.role_arn], run_all)
    account_id, partition = factory.caller_account(base)
    if not settings.account_in_scope(account_id):
        return Entry(accounts=[], skipped={})
    return Entry(accounts=[Account(account_id, partition, credentials, base)], skipped={})


def _enter_roles(
    settings: Settings,
    factory: ClientFactory,
    base: botocore.session.Session,
    role_arns: list[str],
    run_all: Callable[[list[Callable[[], Any]]], list[Any]],
) -> Entry:
    wanted = [arn for arn in role_arns if settings.account_in_scope(account_of_role(arn))]

    def enter(arn: str) -> Account | AccountEntryError:
        try:
            credentials = factory.assume_role(base, arn, duration=settings.role_duration_seconds)
        except AccountEntryError as exc:
            return exc
        return Account(account_of_role(arn), partition_of_arn(arn), credentials, role_arn=arn)

    entry = Entry(accounts=[], skipped={})
    for arn, outcome in zip(wanted, run_all([partial(enter, a) for a in wanted]), strict=True):
        if isinstance(outcome, AccountEntryError):
            entry.skipped[account_of_role(arn)] = outcome
        else:
            entry.accounts.append(outcome)
    return entry


def _enter_organization(
    settings: Settings,
    factory: ClientFactory,
    base: botocore.session.Session,
    run_all: Callable[[list[Callable[[], Any]]], list[Any]],
) -> Entry:
    role_arn = settings.role_arn or ""
    partition = partition_of_arn(role_arn)
    own_account = account_of_role(role_arn)
    management_credentials = factory.assume_role(
        base, role_arn, duration=settings.role_duration_seconds
    )
    management = factory.new_session(management_credentials)  # the source of member roles
    organizations = factory.client(management, "organizations", home_region(partition))
    listed: list[dict[str, Any]] = []
    try:
        for page in organizations.get_paginator("list_accounts").paginate(
            PaginationConfig={"PageSize": 20}
        ):
            listed.extend(page.get("Accounts", []))
    except Exception as exc:
        raise AccountEntryError.of(
            f"could not list the organization's accounts through {role_arn}", exc
        ) from exc

    in_scope = [account for account in listed if settings.account_in_scope(account["Id"])]
    active = [account for account in in_scope if account_state(account) == "ACTIVE"]
    chained = min(settings.role_duration_seconds, ROLE_CHAINING_MAX_SECONDS)

    def enter(account: dict[str, Any]) -> Account | AccountEntryError:
        account_partition = partition_of_arn(account.get("Arn") or role_arn)
        if account["Id"] == own_account:
            return Account(
                own_account,
                partition,
                management_credentials,
                management,
                role_arn,
                account.get("Name"),
            )
        arn = member_role_arn(settings, account_partition, account["Id"])
        try:
            credentials = factory.assume_role(management, arn, duration=chained)
        except AccountEntryError as exc:
            return exc
        return Account(
            account["Id"], account_partition, credentials, None, arn, account.get("Name")
        )

    entry = Entry(
        accounts=[],
        skipped={},
        organization_accounts=listed,
        organization_account=Account(
            own_account, partition, management_credentials, management, role_arn
        ),
        suspended=[account for account in in_scope if account_state(account) != "ACTIVE"],
    )
    for account, outcome in zip(active, run_all([partial(enter, a) for a in active]), strict=True):
        if isinstance(outcome, AccountEntryError):
            entry.skipped[account["Id"]] = outcome
        else:
            entry.accounts.append(outcome)
    return entry
