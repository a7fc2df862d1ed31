"""README.md's code blocks and the commands in them, and what running them here takes.

Used by tests/e2e/test_readme_commands.py:

- :func:`blocks` splits Markdown into code blocks: fenced ones (with their language) and
  indented ones (language ``indented``), each with the ``<!-- NAME:start -->`` marker it sits
  in, if any;
- :attr:`Block.commands` are a shell block's commands: one per logical line (backslash
  continuations joined), comment-only lines dropped, ``$ `` prompts of console blocks
  stripped, and ``>>> `` lines kept as the input of the command before them;
- :func:`normalized` is how a command is named: comments stripped, whitespace collapsed;
- :func:`awscli` is the AWS CLI v1, pinned, in a virtual environment of its own under
  ``.awscli/`` (gitignored), built once;
- :func:`run_with_tty` runs a command on a pseudo-terminal and answers its prompts (openssl
  reads passphrases from the terminal, never from a pipe).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import termios
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHELL_LANGUAGES = frozenset({"sh", "bash", "shell", "console", "indented"})
YAML_LANGUAGES = frozenset({"yaml", "yml"})

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
_MARKER = re.compile(r"^<!--\s*([\w-]+):(start|end)\b")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def normalized(text: str) -> str:
    """A command's name: continuation lines joined, comments stripped, whitespace collapsed."""
    lines = text.replace("\\\n", " ").splitlines()
    return " ".join(" ".join(strip_comment(line).split()) for line in lines).strip()


def strip_comment(line: str) -> str:
    """``line`` without a shell comment (``#`` at a word's start, outside quotes)."""
    quote = ""
    previous = " "
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and previous.isspace():
            return line[:index].rstrip()
        previous = char
    return line.rstrip()


@dataclass(frozen=True)
class Command:
    text: str  # the logical line as written (continuation lines joined with their newlines)
    line: int  # where it starts in README.md (messages only: commands are named by text)
    stdin: tuple[str, ...] = ()  # `>>> ` lines that follow it: what is typed into it

    @property
    def key(self) -> str:
        return normalized(self.text)


@dataclass(frozen=True)
class Block:
    language: str  # a fenced block's info word (lower case), "" without one, or "indented"
    text: str
    line: int  # README line of the block's first content line
    marker: str | None  # NAME of the <!-- NAME:start --> ... <!-- NAME:end --> it sits in

    @property
    def first_line(self) -> str:
        lines = [line for line in self.text.splitlines() if line.strip()]
        return " ".join(lines[0].split()) if lines else ""

    @property
    def commands(self) -> tuple[Command, ...]:
        if self.language not in SHELL_LANGUAGES:
            return ()
        found: list[Command] = []
        pending: list[str] = []
        start = 0
        for offset, raw in enumerate(self.text.splitlines()):
            line = raw.rstrip()
            if not pending:
                stripped = line.strip()
                if stripped.startswith(">>> ") and found:
                    last = found[-1]
                    found[-1] = Command(last.text, last.line, (*last.stdin, stripped[4:]))
                    continue
                if self.language == "console":
                    if not stripped.startswith("$ "):
                        continue  # output
                    line = stripped[2:]
                if not strip_comment(line).strip():
                    continue
                start = self.line + offset
            if line.endswith("\\"):
                pending.append(line)
                continue
            pending.append(line)
            found.append(Command("\n".join(pending).strip(), start))
            pending = []
        if pending:
            found.append(Command("\n".join(pending).strip(), start))
        return tuple(found)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(command.key for command in self.commands)


def blocks(markdown: str) -> list[Block]:
    """Every code block of ``markdown``, in order."""
    lines = markdown.splitlines()
    found: list[Block] = []
    marker: str | None = None
    in_list = False
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence:
            closing = fence.group(1)
            body: list[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(closing):
                body.append(lines[index])
                index += 1
            found.append(Block(fence.group(2).lower(), "\n".join(body), index - len(body), marker))
            index += 1
            continue
        tag = _MARKER.match(line.strip())
        if tag:
            marker = tag.group(1) if tag.group(2) == "start" else None
        previous_blank = index == 0 or not lines[index - 1].strip()
        if line.startswith("    ") and line.strip() and previous_blank and not in_list:
            body = []
            start = index
            while index < len(lines) and (
                lines[index].startswith("    ") or not lines[index].strip()
            ):
                body.append(lines[index][4:])
                index += 1
            while body and not body[-1].strip():
                body.pop()
            found.append(Block("indented", "\n".join(body), start + 1, marker))
            continue
        if _LIST_ITEM.match(line):
            in_list = True
        elif line.strip() and not line[0].isspace():
            in_list = False  # a paragraph, heading or table at the margin ends the list
        index += 1
    return found


def json_documents(text: str) -> tuple[list[Any], list[str]]:
    """The JSON documents at the start of ``text`` one after another (what several AWS CLI
    commands print), and the lines after them (``--output text``)."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text) or text[position] not in "[{":
            break
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents, [line for line in text[position:].splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# The AWS CLI v1, pinned, in a virtual environment of its own (never the project's uv.lock)

AWSCLI_REQUIREMENTS = (  # awscli 1.46 vendors botocore and s3transfer
    "awscli==1.46.3",
    "colorama==0.4.6",
    "docutils==0.19",
    "jmespath==1.1.0",
    "pyasn1==0.6.5",
    "python-dateutil==2.9.0.post0",
    "pyyaml==6.0.4",
    "rsa==4.7.2",
    "six==1.17.0",
    "urllib3==2.8.0",
)
AWSCLI_CACHE = ROOT / ".awscli"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def awscli() -> Path:
    """The ``aws`` executable of the pinned AWS CLI v1, installed once under ``.awscli/``."""
    digest = hashlib.sha256("\n".join(AWSCLI_REQUIREMENTS).encode()).hexdigest()[:12]
    venv = AWSCLI_CACHE / f"awscli-{digest}"
    executable = venv / "bin" / "aws"
    done_marker = venv / "requirements.sha256"
    with _locked(AWSCLI_CACHE / "install.lock"):
        if executable.exists() and done_marker.is_file():
            return executable
        shutil.rmtree(venv, ignore_errors=True)
        (AWSCLI_CACHE / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
        uv = os.environ.get("UV") or shutil.which("uv")
        if uv is None:
            raise RuntimeError("uv is needed to install the AWS CLI for the README test")
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        for command in (
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--compile-bytecode",
                "--python",
                str(venv / "bin" / "python"),
                *AWSCLI_REQUIREMENTS,
            ],
        ):
            subprocess.run(command, check=True, env=env, capture_output=True, text=True)
        done_marker.write_text(digest + "\n")
    return executable


# ---------------------------------------------------------------------------------------------
# A command on a pseudo-terminal


def run_with_tty(
    script: str,
    *,
    cwd: Path,
    answers: Sequence[tuple[str, str]],
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> tuple[int, str]:
    """Run ``script`` with bash on a new pseudo-terminal (its controlling terminal); each time
    the output since the last answer ends in a prompt of ``answers`` (in order), type that
    answer. Returns the exit code and everything the terminal showed."""
    master, slave = os.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        ["bash", "-c", script],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=controlling_terminal,  # noqa: PLW1509 - how a pty becomes /dev/tty
        close_fds=True,
    )
    os.close(slave)
    shown = b""
    since_answer = b""
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{script!r} still running: {shown.decode(errors='replace')}")
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every process holding the terminal has closed it
                break
            if not chunk:
                break
            shown += chunk
            since_answer += chunk
            if pending and since_answer.rstrip().endswith(pending[0][0].encode()):
                os.write(master, pending.pop(0)[1].encode() + b"\n")
                since_answer = b""
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return process.wait(timeout=30), shown.decode(errors="replace")
