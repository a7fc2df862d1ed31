"""What an exception says, safe to log: AWS's error code and a one-line, escaped message.

Text from an endpoint (an error message, a body that is not AWS's) may carry control
characters, ANSI escapes or a whole HTML page: it is escaped and cut to one short line before
it reaches a log line or a coverage row.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

MESSAGE_CHARS = 300


def safe_text(text: str, limit: int = MESSAGE_CHARS) -> str:
    """One line: whitespace runs become one space, other control characters \\xNN escapes."""
    out: list[str] = []
    for char in " ".join(text.split()):
        code = ord(char)
        out.append(
            char if code >= 32 and code != 127 and not 0x80 <= code < 0xA0 else f"\\x{code:02x}"
        )
    line = "".join(out)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_code(exc: BaseException) -> str:
    """AWS's error code, or the exception's class name for non-AWS errors."""
    if isinstance(exc, ClientError):
        return safe_text(str(exc.response.get("Error", {}).get("Code") or "ClientError"), 100)
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    """The exception's message on one escaped line."""
    if isinstance(exc, ClientError):
        return safe_text(str(exc.response.get("Error", {}).get("Message") or ""))
    return safe_text(str(exc))
