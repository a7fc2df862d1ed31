"""The interface between the emulator's WSGI wrapper and our own operation handlers.

The wrapper (``server.py``) parses every AWS request into an :class:`AwsRequest`. Handlers
registered for a ``(service, operation)`` answer it instead of moto; a handler returning
``None`` lets the request through to moto, whose answer a response decorator may rewrite.
Control routes answer test and demo code under ``/_emulator/<path>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class AwsRequest:
    service: str  # SigV4 signing name: "ec2", "securityhub", "inspector2", "s3" ...
    operation: str  # botocore operation name: "DescribeInstances", "GetFindings" ...
    protocol: str  # botocore protocol: "ec2", "query", "json", "rest-json", "rest-xml"
    account_id: str  # the account the request's credentials belong to
    region: str  # SigV4 scope region
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, Any] = field(default_factory=dict)  # parsed JSON body or form params

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class AwsResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> AwsResponse:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


OperationHandler = Callable[[AwsRequest], AwsResponse | None]
ResponseDecorator = Callable[[AwsRequest, AwsResponse], AwsResponse]
ControlHandler = Callable[[dict[str, Any]], Any]


class EmulatorApp(Protocol):
    """What an ``install(app)`` function may register on the emulator."""

    def add_operation_handler(
        self, service: str, operation: str, handler: OperationHandler
    ) -> None: ...

    def add_response_decorator(
        self, service: str, operation: str, decorator: ResponseDecorator
    ) -> None: ...

    def add_control_route(self, path: str, handler: ControlHandler) -> None: ...
