"""Every command in README.md's code blocks is run here, or exempt by name with its reason.

How each block is checked (tests/e2e/readme_blocks.py reads the blocks and their commands):

- shell blocks (``sh``, ``bash``, ``console``, indented): every command is named by its text
  (comments stripped, whitespace collapsed) in exactly one of RUN (the test below that runs it
  as written), EXEMPT (why it cannot run here, and where it runs instead) or, for a block run
  as one script, WHOLE_BLOCKS. A command in none of them fails
  ``test_every_readme_command_is_run_or_exempt``, and so does an entry the README no longer has.
- AWS CLI blocks (CloudFormation) run as bash scripts against an emulator of this module's own,
  with ``--endpoint-url`` added to every ``aws`` call (a shell function), the AWS CLI v1 pinned
  in a virtual environment under ``.awscli/``; the templates they generate are linted with
  cfn-lint, and the roles they create must let the tap in. That, and ``aws-emulator serve`` on
  a free port instead of 4566, are the only changes made to what the README says; the rest
  (config.json, catalog.json, the profiles, the organization) is the world around a command.
- YAML blocks are configuration: each must parse, and every setting a Meltano fragment sets must
  be a setting of its plugin (the tap's own, or the loader's as meltano.yml declares it).
- SQL blocks and blocks without a language are not commands: listed in OTHER_LANGUAGES and
  NOT_COMMANDS with the reason.
- the Quick start's blocks are .ci/run's own steps (MARKER_EXEMPT).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest
import yaml
from aws_emulator import Emulator, demo
from aws_emulator.seed import account_session
from cfnlint.api import ManualArgs, lint

from tap_aws_uvm.iam import CHOICES
from tap_aws_uvm.streams import STREAM_TYPES
from tap_aws_uvm.tap import TapAwsUvm
from tests.e2e.readme_blocks import (
    ROOT,
    SHELL_LANGUAGES,
    YAML_LANGUAGES,
    Block,
    Command,
    awscli,
    blocks,
    json_documents,
    normalized,
    run_with_tty,
)
from tests.e2e.tap_runner import FAKE_KEYS, TapRun, catalog_selecting, clean_env, run_tap

pytestmark = pytest.mark.timeout(900)

README = ROOT / "README.md"
ALL_STREAMS = frozenset(stream.name for stream in STREAM_TYPES)  # type: ignore[misc]
REGION = "us-east-1"


class Exempt(NamedTuple):
    reason: str
    # (file, text it holds): where the command runs instead, checked to still be there
    evidence: tuple[tuple[str, str], ...] = ()


# -- what happens to each command -------------------------------------------------------------

# Blocks between <!-- NAME:start --> and <!-- NAME:end -->: run by CI itself.
MARKER_EXEMPT = {
    "quickstart-demo": Exempt(
        ".ci/run runs it, read from between its markers, as CI's main job, and checks the "
        "DuckDB file it writes",
        ((".ci/run", "readme_command quickstart-demo"),),
    ),
    "quickstart-tests": Exempt(
        ".ci/run runs it, read from between its markers, as CI's test step (this test is part "
        "of it)",
        ((".ci/run", "readme_command quickstart-tests"),),
    ),
}

# Blocks run whole, as one bash script each, by the test named; a block is named by a command
# only it holds.
WHOLE_BLOCKS = {
    "single-account": (
        "uv run tap-aws-uvm-iam --config config.json --catalog catalog.json "
        "--print account-template > tap-read-role.json"
    ),
    "several-accounts": (
        'aws cloudformation wait stack-create-complete --profile "$profile" '
        "--stack-name tap-aws-uvm-read"
    ),
    "organization": (
        "uv run tap-aws-uvm-iam --config config.json --catalog catalog.json "
        "--print org-template > tap-management-role.json"
    ),
}

# Commands run as written, each by the test named.
RUN = {
    "uv run tap-aws-uvm-iam --config config.json [--catalog catalog.json] --print WHAT": (
        "test_iam_synopsis_prints_every_documented_document"
    ),
    "uv tool install meltano==4.4.1": "test_meltano_section",
    "meltano install tap-aws-uvm target-postgres": "test_meltano_section",
    "meltano --environment=prod config list tap-aws-uvm": "test_meltano_section",
    "meltano state get prod:tap-aws-uvm-to-target-postgres": "test_meltano_section",
    "meltano install dbt-duckdb dbt-postgres": "test_warehouse_models_section",
    ".meltano/utilities/dbt-duckdb/venv/bin/python -i -c "
    "\"import duckdb; db = duckdb.connect('output/warehouse.duckdb', read_only=True)\"": (
        "test_warehouse_models_section"
    ),
    "openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes-256-cbc -inform PEM -out rsa_key.p8": (
        "test_snowflake_section"
    ),
    "openssl rsa -in rsa_key.p8 -pubout -out rsa_key.pub": "test_snowflake_section",
    "meltano install target-snowflake": "test_snowflake_section",
    "meltano state get prod:tap-aws-uvm-to-target-snowflake": "test_snowflake_section",
    "uv run aws-emulator serve --port 4566 --seed": "test_emulator_serve_seed",
}

_DBT = ("tests/e2e/test_dbt.py", "meltano run tap-aws-uvm target-duckdb dbt-duckdb:build")
EXEMPT = {
    "meltano run tap-aws-uvm target-duckdb dbt-duckdb:build": Exempt(
        "tests/e2e/test_dbt.py runs it (ci environment, an emulator of its own) and checks "
        "every model's rows",
        (_DBT,),
    ),
    "meltano run tap-aws-uvm target-postgres dbt-postgres:build": Exempt(
        "tests/e2e/test_dbt.py runs it (ci environment, its PostgreSQL) and checks every "
        "model's rows",
        (_DBT,),
    ),
    "meltano invoke dbt-duckdb build --vars '{coverage_max_age_days: 7}'": Exempt(
        "tests/e2e/test_dbt.py runs `meltano invoke <dbt utility> build --vars "
        "'{coverage_max_age_days: 0}'` and checks the freshness warnings",
        (("tests/e2e/test_dbt.py", '"{coverage_max_age_days: 0}"'),),
    ),
    "TARGET_POSTGRES_HOST=db.internal TARGET_POSTGRES_USER=uvm TARGET_POSTGRES_PASSWORD=... "
    "TARGET_POSTGRES_DATABASE=security "
    "meltano --environment prod run tap-aws-uvm target-postgres dbt-postgres:build": Exempt(
        "production: real AWS credentials (prod environment) into your database host; "
        "tests/e2e/test_dbt.py runs the same pipeline in the ci environment",
        (_DBT,),
    ),
    "meltano --environment=prod run tap-aws-uvm target-postgres": Exempt(
        "reads real AWS (prod environment) into your PostgreSQL; tests/e2e/test_meltano.py "
        "runs `meltano run tap-aws-uvm target-postgres` in the ci environment",
        (("tests/e2e/test_meltano.py", 'run_meltano("run", "tap-aws-uvm", "target-postgres"'),),
    ),
    "meltano --environment=prod run tap-aws-uvm target-snowflake": Exempt(
        "reads real AWS (prod environment) into a Snowflake account; "
        "tests/e2e/test_snowflake.py runs it in the ci environment into fakesnow",
        (("tests/e2e/test_snowflake.py", "meltano run tap-aws-uvm target-snowflake"),),
    ),
    "uv sync": Exempt(
        "re-resolves, and may rewrite uv.lock and the environment this test runs in; .ci/run "
        "runs `uv sync --frozen` before the tests",
        ((".ci/run", "uv sync --frozen"),),
    ),
    "uv run --frozen pytest": Exempt(
        "the Quick start's test command: .ci/run runs it, and this test is part of it",
        ((".ci/run", "readme_command quickstart-tests"),),
    ),
    "uv run --frozen pytest tests/unit": Exempt(
        "a part of `uv run --frozen pytest`, which .ci/run runs",
        ((".ci/run", "readme_command quickstart-tests"),),
    ),
    "CI=true bash .ci/run": Exempt(
        "CI itself: .github/workflows/ci.yml runs it",
        ((".github/workflows/ci.yml", "bash .ci/run"),),
    ),
    "uv run python scripts/check_generated.py": Exempt(
        ".ci/run runs it (`uv run --frozen python scripts/check_generated.py`) before the tests",
        ((".ci/run", "python scripts/check_generated.py"),),
    ),
    "uv run python scripts/generate_schemas.py": Exempt(
        "rewrites tap_aws_uvm/schemas/ in the checkout; scripts/check_generated.py (run by "
        ".ci/run) runs it with --check",
        (("scripts/check_generated.py", '"scripts/generate_schemas.py", "--check"'),),
    ),
    "uv run python scripts/readme_settings.py": Exempt(
        "rewrites README.md's settings table; scripts/check_generated.py (run by .ci/run) runs "
        "it with --check",
        (("scripts/check_generated.py", '"scripts/readme_settings.py", "--check"'),),
    ),
}

# Fenced blocks in a language that is neither shell nor YAML.
OTHER_LANGUAGES = {
    "sql": Exempt(
        "SQL statements, not shell commands: tests/e2e/test_dbt.py checks that the day-one "
        "queries are aws_emulator.day_one's, which it runs; tests/e2e/test_snowflake.py runs the "
        "Snowflake queries as written; the Snowflake grants need a real Snowflake account",
        (
            ("tests/e2e/test_dbt.py", "day_one_sql"),
            ("tests/e2e/test_snowflake.py", "def readme_queries"),
        ),
    ),
}

# Fenced blocks without a language, named by how their first line starts: not commands.
NOT_COMMANDS = {
    "accounts -> shard_plan -> shard [": "a diagram of the Airflow DAG's tasks",
    "tap_aws_uvm/ the tap, and nothing else": "the repository's layout",
    "Progress: ": "an example of the tap's progress log line",
}


# -- reading the README -----------------------------------------------------------------------


def readme_blocks() -> list[Block]:
    return blocks(README.read_text(encoding="utf-8"))


def readme_command(key: str, runner: str) -> Command:
    """The README's command named ``key``, which RUN gives to the test ``runner``."""
    assert RUN.get(key) == runner, f"RUN must give {key!r} to {runner}"
    found = {c for b in readme_blocks() for c in b.commands if c.key == key}
    assert found, f"README.md no longer has the command {key!r}: update RUN"
    return sorted(found, key=lambda c: c.line)[0]


def whole_block(name: str) -> Block:
    signature = WHOLE_BLOCKS[name]
    found = [b for b in readme_blocks() if signature in b.keys]
    assert len(found) == 1, f"{name}: {len(found)} README blocks hold {signature!r}"
    return found[0]


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_readme_command_is_run_or_exempt() -> None:
    problems: list[str] = []
    seen: set[str] = set()
    languages: set[str] = set()
    markers: set[str] = set()
    for block in readme_blocks():
        where = f"README.md line {block.line}"
        if block.marker in MARKER_EXEMPT:
            markers.add(block.marker)
            continue
        if block.language in YAML_LANGUAGES:
            continue  # configuration: test_yaml_blocks_parse_and_name_real_settings
        if block.language in OTHER_LANGUAGES:
            languages.add(block.language)
            continue
        if block.language == "":
            named = [start for start in NOT_COMMANDS if block.first_line.startswith(start)]
            if len(named) == 1:
                seen.add(named[0])
            else:
                problems.append(
                    f"{where}: a block without a language ({block.first_line!r}): give it one "
                    "(sh, bash, yaml, sql ...) or list it in NOT_COMMANDS"
                )
            continue
        if block.language not in SHELL_LANGUAGES:
            problems.append(f"{where}: language {block.language!r} is not handled here")
            continue
        whole = [name for name, signature in WHOLE_BLOCKS.items() if signature in block.keys]
        if len(whole) > 1:
            problems.append(f"{where}: claimed by {whole}")
        if whole:
            seen.add(WHOLE_BLOCKS[whole[0]])
            continue
        for command in block.commands:
            handled = [table for table in (RUN, EXEMPT) if command.key in table]
            if len(handled) != 1:
                problems.append(
                    f"README.md line {command.line}: {command.key!r} is "
                    + ("both run and exempt" if handled else "neither run nor exempt")
                    + ": run it in a test (RUN) or give the reason it cannot run here (EXEMPT)"
                )
            seen.add(command.key)
    for table in (RUN, EXEMPT, NOT_COMMANDS):
        problems += [f"stale entry (README.md has no {key!r})" for key in table if key not in seen]
    problems += [f"stale entry {m!r}: no such marker" for m in set(MARKER_EXEMPT) - markers]
    problems += [f"stale entry {k!r}: no such block" for k in set(OTHER_LANGUAGES) - languages]
    for test_name in set(RUN.values()):
        if not callable(globals().get(test_name)):
            problems.append(f"RUN names {test_name}, which is not a test here")
    exempts = [*MARKER_EXEMPT.values(), *EXEMPT.values(), *OTHER_LANGUAGES.values()]
    for exempt in exempts:
        assert exempt.reason.strip()
        for path, text in exempt.evidence:
            file = ROOT / path
            if not file.is_file() or text not in file.read_text(encoding="utf-8"):
                problems.append(f"exemption {exempt.reason!r}: {path} no longer holds {text!r}")
    assert problems == [], "\n".join(problems)


def test_the_parser_finds_every_kind_of_block() -> None:
    found = blocks(
        textwrap.dedent(
            """\
            <!-- x:start -->
            ```console
            $ echo one \\
                two   # said
            output
            ```
            <!-- x:end -->

            - a list item

                  not code (inside the list)

            Text.

                python -i
                >>> 1 + 1
            """
        )
    )
    assert [(b.language, b.marker) for b in found] == [("console", "x"), ("indented", None)]
    (echo,) = found[0].commands
    assert echo.key == "echo one two"
    (python,) = found[1].commands
    assert (python.key, python.stdin) == ("python -i", ("1 + 1",))
    assert normalized("a  'b # c'  # d") == "a 'b # c'"


# -- YAML blocks: configuration ---------------------------------------------------------------


def meltano_yml() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "meltano.yml").read_text())
    return document


def plugin_configs(document: Any) -> list[tuple[str | None, str, str, dict[str, Any]]]:
    """(environment, plugin type, plugin name, config) of every plugin a Meltano fragment
    configures: a project's ``plugins:``, a list of environments, or a bare ``config:`` under
    the tap's entry (how README.md's Authentication section continues its first block)."""

    def plugins(environment: str | None, section: Any) -> list[Any]:
        assert isinstance(section, dict), section
        return [
            (environment, kind, entry["name"], entry.get("config") or {})
            for kind, entries in section.items()
            for entry in entries
        ]

    if isinstance(document, list):  # environments
        return [
            item
            for env in document
            for item in plugins(env["name"], env.get("config", {}).get("plugins", {}))
        ]
    assert isinstance(document, dict), document
    if set(document) == {"config"}:
        return [(None, "extractors", "tap-aws-uvm", document["config"])]
    found = plugins(None, document["plugins"]) if "plugins" in document else []
    if "environments" in document:
        found += plugin_configs(document["environments"])
    assert found, f"a YAML block that configures no plugin: {document}"
    return found


def test_yaml_blocks_parse_and_name_real_settings() -> None:
    project = meltano_yml()
    declared = {
        (kind, plugin["name"]): {setting["name"] for setting in plugin.get("settings", [])}
        for kind, plugins in project["plugins"].items()
        for plugin in plugins
    }
    declared[("extractors", "tap-aws-uvm")] = set(TapAwsUvm.known_settings())
    environments = {env["name"] for env in project["environments"]}
    yaml_blocks = [b for b in readme_blocks() if b.language in YAML_LANGUAGES]
    assert len(yaml_blocks) >= 6, "README.md's configuration examples"
    configured: set[tuple[str, str]] = set()
    variables: list[str] = []
    for block in yaml_blocks:
        document = yaml.safe_load(textwrap.dedent(block.text))
        for environment, kind, name, config in plugin_configs(document):
            where = f"README.md line {block.line}: {name}"
            assert environment is None or environment in environments, where
            assert (kind, name) in declared, f"{where} is not a {kind[:-1]} of meltano.yml"
            unknown = set(config) - declared[(kind, name)]
            assert not unknown, f"{where}: no such setting {sorted(unknown)}"
            configured |= {(name, key) for key in config}
        variables += re.findall(r"\bTAP_AWS_UVM_([A-Z_]+)=", block.text)  # .env lines
    tap_settings = declared[("extractors", "tap-aws-uvm")]
    assert variables, "the examples name their secrets' variables"
    assert [v for v in variables if v.lower() not in tap_settings] == []
    # the Authentication examples show every mode (one block each)
    modes = {"aws_access_key_id", "aws_profile", "role_arn", "org_accounts", "role_arns"}
    assert {("tap-aws-uvm", setting) for setting in modes} <= configured
    assert ("target-snowflake", "account") in configured


# -- AWS CLI blocks against the emulator ------------------------------------------------------


@pytest.fixture(scope="module")
def cfn_emulator() -> Iterator[Emulator]:
    """An emulator of this module's own: the README's stacks need an organization without the
    demo's roles, and each test resets it."""
    with Emulator.start() as started:
        yield started


def fresh_organization(emulator: Emulator, members: int) -> tuple[str, list[str]]:
    """An empty emulator holding an organization: its management account and ``members``
    ACTIVE member accounts directly under the root, and nothing else (no roles)."""
    emulator.reset()
    client = boto3.client(
        "organizations",
        endpoint_url=emulator.endpoint_url,
        region_name=REGION,
        aws_access_key_id=FAKE_KEYS["aws_access_key_id"],
        aws_secret_access_key=FAKE_KEYS["aws_secret_access_key"],
    )
    management = client.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
    root = client.list_roots()["Roots"][0]["Id"]
    # moto (5.2.5) deploys a SERVICE_MANAGED StackSet into every account under the target OU
    # and its child OUs, the management account included; AWS never deploys one into the
    # management account. With the management account two OUs down, moto's targets are AWS's.
    parent = root
    for name in ("Management", "Core"):
        unit = client.create_organizational_unit(ParentId=parent, Name=name)
        parent = unit["OrganizationalUnit"]["Id"]
    client.move_account(AccountId=management, SourceParentId=root, DestinationParentId=parent)
    accounts = [
        client.create_account(AccountName=f"readme-{n}", Email=f"readme-{n}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for n in range(1, members + 1)
    ]
    return management, accounts


def shell_env(
    work: Path, emulator: Emulator, profiles: dict[str, str] | None = None
) -> dict[str, str]:
    """What the README's blocks run with: the pinned AWS CLI as ``aws``, the project for
    ``uv run`` (without syncing it), the emulator's fake keys as the default credentials, and
    one profile per ``profiles`` entry that enters that account (OrganizationAccountAccessRole,
    as an organization's management account can)."""
    bin_dir = work / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "aws").exists():
        (bin_dir / "aws").symlink_to(awscli())
    home = work / "home"  # the AWS CLI caches assumed-role credentials under ~/.aws/cli
    home.mkdir(exist_ok=True)
    config = [f"[default]\nregion = {REGION}\n"]
    for name, account in (profiles or {}).items():
        config.append(
            f"[profile {name}]\n"
            f"role_arn = arn:aws:iam::{account}:role/OrganizationAccountAccessRole\n"
            "source_profile = default\n"
            f"region = {REGION}\n"
            # the CLI's own AssumeRole call does not take --endpoint-url
            f"endpoint_url = {emulator.endpoint_url}\n"
        )
    (work / "aws-config").write_text("\n".join(config))
    (work / "aws-credentials").write_text(
        "[default]\n"
        f"aws_access_key_id = {FAKE_KEYS['aws_access_key_id']}\n"
        f"aws_secret_access_key = {FAKE_KEYS['aws_secret_access_key']}\n"
    )
    env = {
        k: v
        for k, v in clean_env().items()
        if not k.startswith("TAP_AWS_UVM_") and k != "VIRTUAL_ENV"
    }
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        UV_PROJECT=str(ROOT),
        UV_FROZEN="1",
        UV_NO_SYNC="1",
        UV_NO_PROGRESS="1",
        AWS_CONFIG_FILE=str(work / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "aws-credentials"),
        README_TEST_ENDPOINT_URL=emulator.endpoint_url,
    )
    return env


PRELUDE = """\
set -euo pipefail
PS4='+ [${SECONDS}s] '
set -x  # on stderr: shown when a block fails
# the one change to what the README says: every AWS CLI call goes to the emulator
aws() { command aws --endpoint-url "$README_TEST_ENDPOINT_URL" "$@"; }
"""


def run_blocks(blocks_: list[Block], work: Path, env: dict[str, str]) -> list[str]:
    """Run ``blocks_`` one after the other in one bash (as one shell session would, so a later
    block sees an earlier one's variables); each block's stdout, in order."""
    script = PRELUDE
    for index, block in enumerate(blocks_):
        script += f'exec >"block-{index}.stdout"\n{block.text}\n'
    (work / "readme.sh").write_text(script)
    done = subprocess.run(
        ["bash", "readme.sh"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    outputs = [
        (work / f"block-{i}.stdout").read_text() if (work / f"block-{i}.stdout").exists() else ""
        for i in range(len(blocks_))
    ]
    assert done.returncode == 0, (
        f"the README's blocks (lines {[b.line for b in blocks_]}) exited {done.returncode}:\n"
        f"{done.stderr[-5000:]}\nstdout: {outputs}"
    )
    return outputs


def write_config(work: Path, config: dict[str, Any]) -> None:
    """config.json and catalog.json, as the README's commands expect them (every stream)."""
    (work / "config.json").write_text(json.dumps(config))
    (work / "catalog.json").write_text(json.dumps(catalog_selecting(set(ALL_STREAMS))))


def assert_lint_clean(path: Path) -> None:
    template = json.loads(path.read_text())
    assert template["Resources"], path.name
    matches = lint(path.read_text(), config=ManualArgs(regions=[REGION]))
    assert [str(match) for match in matches] == [], path.name


def outputs_of(document: list[dict[str, str]]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in document}


def coverage(run: TapRun, stream: str) -> set[tuple[str, str]]:
    return {
        (row["account_id"], row["outcome"])
        for row in run.records["sync_coverage"]
        if row["stream"] == stream
    }


def test_single_and_several_accounts_stacks(cfn_emulator: Emulator, tmp_path: Path) -> None:
    """README "Single account", then "Several accounts" (which reuses its template and ExternalId):
    one stack in the caller's account and one per profile, each a role the tap enters."""
    single, several = whole_block("single-account"), whole_block("several-accounts")
    (loop,) = {c.key for c in several.commands if c.key.startswith("for profile in ")}
    names = loop.removeprefix("for profile in ").removesuffix("; do").split()
    management, members = fresh_organization(cfn_emulator, members=len(names))
    write_config(
        tmp_path, {"role_arn": f"arn:aws:iam::{management}:role/TapReadRole", "regions": [REGION]}
    )
    env = shell_env(tmp_path, cfn_emulator, dict(zip(names, members, strict=True)))
    single_out, several_out = run_blocks([single, several], tmp_path, env)

    (created, outputs), rest = json_documents(single_out)
    assert rest == []
    assert created["StackId"].startswith(
        f"arn:aws:cloudformation:{REGION}:{management}:stack/tap-aws-uvm-read/"
    )
    outputs = outputs_of(outputs)
    assert set(outputs) == {"RoleArn", "ExternalId"}
    assert outputs["RoleArn"] == f"arn:aws:iam::{management}:role/TapReadRole"
    uuid.UUID(outputs["ExternalId"])
    assert_lint_clean(tmp_path / "tap-read-role.json")

    stacks, role_arns = json_documents(several_out)
    assert [s["StackId"].split(":")[4] for s in stacks] == members
    assert role_arns == [f"arn:aws:iam::{m}:role/TapReadRole" for m in members]

    # the table under each block: RoleArn -> role_arn / role_arns, ExternalId -> external_id
    config = {**FAKE_KEYS, "endpoint_url": cfn_emulator.endpoint_url, "regions": [REGION]}
    catalog = catalog_selecting({"s3_buckets", "sync_coverage"})
    entered = run_tap(
        {
            **config,
            "role_arns": [outputs["RoleArn"], *role_arns],
            "external_id": outputs["ExternalId"],
        },
        catalog=catalog,
    )
    assert entered.returncode == 0, entered.stderr[-3000:]
    assert coverage(entered, "s3_buckets") == {(a, "ok") for a in [management, *members]}
    refused = run_tap(
        {**config, "role_arns": role_arns, "external_id": "not-the-external-id"}, catalog=catalog
    )  # the stacks' trust policies hold the ExternalId the README passed
    assert refused.returncode == 1
    for member in members:
        assert refused.lines(
            f"Skipped account={member}: AccessDenied (not_entered): could not assume role "
            f"arn:aws:iam::{member}:role/TapReadRole"
        ), refused.stderr[-3000:]
    assert refused.lines("No account could be entered"), refused.stderr[-3000:]


def test_organization_stack_and_stackset(cfn_emulator: Emulator, tmp_path: Path) -> None:
    """README "Whole organization": the management stack, the StackSet over the root, and org mode
    through their roles."""
    block = whole_block("organization")
    management, members = fresh_organization(cfn_emulator, members=2)
    write_config(
        tmp_path,
        {
            "role_arn": f"arn:aws:iam::{management}:role/TapReadRole",
            "org_accounts": True,
            "regions": [REGION],
        },
    )
    (out,) = run_blocks([block], tmp_path, shell_env(tmp_path, cfn_emulator))
    (stack, stack_set, operation, outputs), rest = json_documents(out)
    assert rest == []
    assert stack["StackId"].startswith(
        f"arn:aws:cloudformation:{REGION}:{management}:stack/tap-aws-uvm-management/"
    )
    assert stack_set["StackSetId"].startswith("tap-aws-uvm-member:")
    assert set(operation) == {"OperationId"}
    outputs = outputs_of(outputs)
    assert outputs["RoleArn"] == f"arn:aws:iam::{management}:role/TapReadRole"
    assert outputs["MemberRoleName"] == "TapReadRole"
    uuid.UUID(outputs["ExternalId"])
    for name in ("tap-management-role.json", "tap-member-role.json"):
        assert_lint_clean(tmp_path / name)

    for member in members:  # the StackSet's role, trusting the management role
        iam = account_session(cfn_emulator.endpoint_url, member, management).client(
            "iam", endpoint_url=cfn_emulator.endpoint_url
        )
        trust = json.dumps(iam.get_role(RoleName="TapReadRole")["Role"], default=str)
        assert outputs["RoleArn"] in trust
        assert outputs["ExternalId"] in trust

    run = run_tap(
        {
            **FAKE_KEYS,
            "endpoint_url": cfn_emulator.endpoint_url,
            "regions": [REGION],
            "role_arn": outputs["RoleArn"],
            "org_accounts": True,
            "member_role_name": outputs["MemberRoleName"],
            "external_id": outputs["ExternalId"],
        },
        catalog=catalog_selecting({"accounts", "s3_buckets", "sync_coverage"}),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert {r["id"] for r in run.records["accounts"]} == {management, *members}
    assert coverage(run, "s3_buckets") == {(a, "ok") for a in [management, *members]}


def test_iam_synopsis_prints_every_documented_document(tmp_path: Path) -> None:
    """The synopsis, with and without its optional part, ``WHAT`` = ``all``; the ``--print``
    table lists exactly the command's choices."""
    key = "uv run tap-aws-uvm-iam --config config.json [--catalog catalog.json] --print WHAT"
    synopsis = readme_command(key, "test_iam_synopsis_prints_every_documented_document").key
    table = re.findall(r"^\| `([a-z][a-z-]*)`", section("Setting up AWS access"), re.M)
    assert table == list(CHOICES)
    work = tmp_path
    (work / "config.json").write_text(
        json.dumps(
            {
                "role_arn": "arn:aws:iam::111111111111:role/TapReadRole",
                "org_accounts": True,
                "regions": ["*"],
            }
        )
    )
    (work / "catalog.json").write_text(json.dumps(catalog_selecting({"s3_buckets"})))
    optional = re.search(r"\[([^\]]+)\] ", synopsis)
    assert optional is not None
    env = {k: v for k, v in clean_env().items() if k != "VIRTUAL_ENV"}
    env.update(UV_PROJECT=str(ROOT), UV_FROZEN="1", UV_NO_SYNC="1", UV_NO_PROGRESS="1")
    printed = {}
    for form, command in (
        ("without", synopsis.replace(optional.group(0), "")),
        ("with", synopsis.replace(optional.group(0), optional.group(1) + " ")),
    ):
        done = subprocess.run(
            ["bash", "-c", command.replace("WHAT", "all")],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        printed[form] = json.loads(done.stdout)
    for documents in printed.values():
        assert set(documents) == {c.replace("-", "_") for c in CHOICES if c != "all"}

    def actions(document: dict[str, Any]) -> set[str]:
        return {a for s in document["Statement"] for a in s["Action"]}

    every = actions(printed["without"]["policy"])
    selected = actions(printed["with"]["policy"])
    assert "s3:ListAllMyBuckets" in selected
    assert "ec2:DescribeInstances" in every - selected


# -- the emulator on its own ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_emulator_serve_seed(tmp_path: Path) -> None:
    """`uv run aws-emulator serve --port 4566 --seed` (on a free port instead of 4566, which
    may be taken here) serves the demo organization: the tap, pointed at it with the dev
    environment's settings, reads what the seed reports."""
    key = "uv run aws-emulator serve --port 4566 --seed"
    command = readme_command(key, "test_emulator_serve_seed")
    port = free_port()
    endpoint_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in clean_env().items() if k != "VIRTUAL_ENV"}
    env.update(UV_PROJECT=str(ROOT), UV_FROZEN="1", UV_NO_SYNC="1", UV_NO_PROGRESS="1")
    log = tmp_path / "emulator.log"
    seeded = re.compile(
        rf"seeded the demo organization into {re.escape(endpoint_url)} in [\d.]+s; "
        r"records per stream: (\{.*\})"
    )
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command.text.replace('--port 4566', f'--port {port}')}"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while not (match := seeded.search(log.read_text(errors="replace"))):
            assert process.poll() is None, f"exited {process.returncode}: {log.read_text()}"
            assert time.monotonic() < deadline, f"not seeded in 240s: {log.read_text()}"
            time.sleep(0.5)
        expected = json.loads(match.group(1))
        (dev,) = [e for e in meltano_yml()["environments"] if e["name"] == "dev"]
        (tap,) = dev["config"]["plugins"]["extractors"]
        streams = {"accounts", "ec2_instances", "s3_buckets"}
        run = run_tap(
            {**tap["config"], "endpoint_url": endpoint_url}, catalog=catalog_selecting(streams)
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert {s: len(run.records[s]) for s in streams} == {s: expected[s] for s in streams}
        assert all(expected[s] > 0 for s in streams)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # uv passes it on to the emulator
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode in {-signal.SIGTERM, 128 + signal.SIGTERM}, log.read_text()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the emulator still listens"


# -- Meltano ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def meltano_sys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Meltano system directory of this module's own (catalogs, logs, state database) that
    shares the project's plugin environments under .meltano/, as tests/e2e/test_meltano.py
    does: installs are reused, and no other test's state is read or written."""
    sys_dir = tmp_path_factory.mktemp("meltano-sys")
    for kind in ("extractors", "loaders", "utilities"):
        (ROOT / ".meltano" / kind).mkdir(parents=True, exist_ok=True)
        (sys_dir / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    return sys_dir


def run_meltano(command: Command, sys_dir: Path) -> subprocess.CompletedProcess[str]:
    """A README `meltano ...` command, as written, with the project's Meltano 4.4.1."""
    argv = shlex.split(command.text, comments=True)
    assert argv[0] == "meltano", command.text
    env = demo.meltano_env({"MELTANO_SYS_DIR_ROOT": str(sys_dir)}, demo=True)
    done = demo.meltano(ROOT, *argv[1:], env=env, capture=True, check=False, timeout=900)
    assert done.returncode == 0, f"{command.text} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return done


def test_meltano_section(meltano_sys_dir: Path, tmp_path: Path) -> None:
    runner = "test_meltano_section"
    # `uv tool install` into tool directories of the test's own, not the user's
    tool = readme_command("uv tool install meltano==4.4.1", runner)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(
        UV_TOOL_DIR=str(tmp_path / "tools"),
        UV_TOOL_BIN_DIR=str(tmp_path / "bin"),
        UV_NO_PROGRESS="1",
    )
    for command in (tool.text, "uv tool list"):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["meltano v4.4.1", "- meltano"]
    assert (tmp_path / "bin" / "meltano").is_file()

    install = run_meltano(
        readme_command("meltano install tap-aws-uvm target-postgres", runner), meltano_sys_dir
    )
    assert "Installed 2/2 plugins" in install.stderr
    for kind, name in (("extractors", "tap-aws-uvm"), ("loaders", "target-postgres")):
        assert demo.python_of(ROOT, kind, name).exists()

    listed = run_meltano(
        readme_command("meltano --environment=prod config list tap-aws-uvm", runner),
        meltano_sys_dir,
    )
    assert "Environment 'prod' is active" in listed.stderr
    # prod has no settings of its own yet (README: "put your real configuration in prod")
    assert (
        "regions [env: TAP_AWS_UVM_REGIONS] current value: None (default)"
        in listed.stdout.splitlines()
    ), listed.stdout

    state = run_meltano(
        readme_command("meltano state get prod:tap-aws-uvm-to-target-postgres", runner),
        meltano_sys_dir,
    )
    assert state.stdout.strip() == "{}"  # this system database has seen no prod run
    assert "Reading state from Database" in state.stderr


def test_warehouse_models_section(meltano_sys_dir: Path, tmp_path: Path) -> None:
    runner = "test_warehouse_models_section"
    install = run_meltano(
        readme_command("meltano install dbt-duckdb dbt-postgres", runner), meltano_sys_dir
    )
    assert "Installed 2/2 plugins" in install.stderr

    # "query the demo's warehouse yourself": in a directory of the test's own, whose
    # output/warehouse.duckdb holds an analytics.aws_assets made here, and whose .meltano/ is
    # the project's (the dbt-duckdb utility just installed)
    key = (
        ".meltano/utilities/dbt-duckdb/venv/bin/python -i -c "
        "\"import duckdb; db = duckdb.connect('output/warehouse.duckdb', read_only=True)\""
    )
    command = readme_command(key, runner)
    assert command.stdin, "the README shows what to type at the >>> prompt"
    (tmp_path / ".meltano").symlink_to(ROOT / ".meltano", target_is_directory=True)
    (tmp_path / "output").mkdir()
    assets = {"account": 4, "ec2_instance": 6, "s3_bucket": 3}
    rows = ", ".join(f"('{kind}')" for kind, n in assets.items() for _ in range(n))
    subprocess.run(
        [
            str(demo.python_of(ROOT, "utilities", "dbt-duckdb")),
            "-c",
            "import duckdb; db = duckdb.connect('output/warehouse.duckdb'); "
            "db.execute('create schema analytics'); "
            f'db.execute("create table analytics.aws_assets as select * from (values {rows}) '
            't(asset_type)")',
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    done = subprocess.run(
        ["bash", "-c", command.text],
        cwd=tmp_path,
        input="\n".join(command.stdin) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = {
        cells[0]: int(cells[1])
        for line in done.stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) == 2
        and cells[1].isdigit()
    }
    assert shown == assets, done.stdout


def test_snowflake_section(meltano_sys_dir: Path, tmp_path: Path) -> None:
    runner = "test_snowflake_section"
    # the key pair: openssl asks for the passphrase on the terminal, so it gets one
    private = readme_command(
        "openssl genrsa 2048 | openssl pkcs8 -topk8 -v2 aes-256-cbc -inform PEM -out rsa_key.p8",
        runner,
    )
    public = readme_command("openssl rsa -in rsa_key.p8 -pubout -out rsa_key.pub", runner)
    passphrase = "readme-test-passphrase"
    code, shown = run_with_tty(
        f"set -e\n{private.text}\n{public.text}\n",
        cwd=tmp_path,
        answers=[
            ("Enter Encryption Password:", passphrase),
            ("Verifying - Enter Encryption Password:", passphrase),
            ("Enter pass phrase for rsa_key.p8:", passphrase),
        ],
    )
    assert code == 0, shown
    key_text = (tmp_path / "rsa_key.p8").read_text()
    assert key_text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    pub = (tmp_path / "rsa_key.pub").read_text().splitlines()
    assert (pub[0], pub[-1]) == ("-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----")
    derived = subprocess.run(
        ["openssl", "pkey", "-in", "rsa_key.p8", "-passin", f"pass:{passphrase}", "-pubout"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert derived.stdout.splitlines() == pub
    # "paste the body below": the SQL's rsa_public_key starts as every such body does
    shown_key = re.search(
        r"rsa_public_key = '([A-Za-z0-9+/]+)\.\.\.'", section("Loading into Snowflake")
    )
    assert shown_key is not None
    assert "".join(pub[1:-1]).startswith(shown_key.group(1))

    install = run_meltano(
        readme_command("meltano install target-snowflake", runner), meltano_sys_dir
    )
    assert "Installed loader 'target-snowflake'" in install.stderr
    assert demo.python_of(ROOT, "loaders", "target-snowflake").exists()
    state = run_meltano(
        readme_command("meltano state get prod:tap-aws-uvm-to-target-snowflake", runner),
        meltano_sys_dir,
    )
    assert state.stdout.strip() == "{}"
