"""One emulator for the tests of this package that share it (``emulator``, session-scoped).

Modules that reset the whole emulator between tests start their own (module-scoped).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_emulator import Emulator


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator.start() as started:
        yield started
