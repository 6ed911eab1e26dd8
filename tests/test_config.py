"""ctflow.yaml discovery, environments, and where credentials may come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctflow.config import find_project, resolve_target
from ctflow.errors import ConfigError, CredentialsError, ExitCode

PROJECT = """\
kind: Project
project: shop
labels: [growth]
environments:
  staging:
    region: in1
  production:
    region: eu1
    credentials:
      account_id: PROD_CT_ACCOUNT
      passcode: PROD_CT_PASSCODE
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ctflow.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_without_ctflow_yaml_only_the_sandbox_exists(tmp_path: Path) -> None:
    project = find_project(tmp_path)
    target = resolve_target(project, None, {})
    assert not project.found
    assert target.is_sandbox
    assert target.sandbox_db == tmp_path / ".ctflow" / "sandbox.db"


def test_sandbox_is_the_default_environment(tmp_path: Path) -> None:
    target = resolve_target(find_project(write(tmp_path, PROJECT)), None, {})
    assert target.environment.name == "sandbox"
    assert target.is_sandbox


def test_real_environment_reads_default_credential_variables(tmp_path: Path) -> None:
    environ = {"CLEVERTAP_ACCOUNT_ID": "ABC-123-4567", "CLEVERTAP_PASSCODE": "s3cret-pass"}
    target = resolve_target(find_project(write(tmp_path, PROJECT)), "staging", environ)
    assert not target.is_sandbox
    assert (target.environment.region, target.account_id) == ("in1", "ABC-123-4567")
    assert "s3cret-pass" not in repr(target)


def test_credential_variable_names_come_from_ctflow_yaml(tmp_path: Path) -> None:
    environ = {"PROD_CT_ACCOUNT": "PRD-000-0001", "PROD_CT_PASSCODE": "prod-pass"}
    target = resolve_target(find_project(write(tmp_path, PROJECT)), "production", environ)
    assert target.account_id == "PRD-000-0001"
    assert target.passcode == "prod-pass"


def test_the_account_token_is_optional_and_its_variable_can_be_named(tmp_path: Path) -> None:
    named = PROJECT.replace(
        "      passcode: PROD_CT_PASSCODE\n",
        "      passcode: PROD_CT_PASSCODE\n      token: PROD_CT_TOKEN\n",
    )
    project = find_project(write(tmp_path, named))
    creds = {"CLEVERTAP_ACCOUNT_ID": "ABC-123-4567", "CLEVERTAP_PASSCODE": "s3cret-pass"}
    assert resolve_target(project, "staging", creds).token is None
    staging = resolve_target(project, "staging", {**creds, "CLEVERTAP_TOKEN": "tok-staging"})
    assert staging.token == "tok-staging"
    assert "tok-staging" not in repr(staging)
    environ = {"PROD_CT_ACCOUNT": "P", "PROD_CT_PASSCODE": "p", "PROD_CT_TOKEN": "tok-prod"}
    assert resolve_target(project, "production", {**environ, "CLEVERTAP_TOKEN": "x"}).token == (
        "tok-prod"
    )


def test_a_token_value_in_place_of_its_variable_name_is_refused(tmp_path: Path) -> None:
    leaked = PROJECT.replace(
        "      passcode: PROD_CT_PASSCODE\n",
        "      passcode: PROD_CT_PASSCODE\n      token: a1-b2c3!\n",
    )
    with pytest.raises(ConfigError) as caught:
        find_project(write(tmp_path, leaked))
    assert "write the NAME of the variable that holds the account token" in caught.value.problems[0]
    assert "a1-b2c3!" not in caught.value.problems[0]


def test_ci_without_credentials_fails_naming_the_missing_variables(tmp_path: Path) -> None:
    project = find_project(write(tmp_path, PROJECT + "default_environment: production\n"))
    with pytest.raises(CredentialsError) as caught:
        resolve_target(project, None, {"CI": "true", "PROD_CT_ACCOUNT": "PRD-000-0001"})
    assert caught.value.exit_code == ExitCode.CREDENTIALS == 4
    assert "PROD_CT_PASSCODE" in str(caught.value)
    assert "CI=true" in str(caught.value)
    assert "PROD_CT_ACCOUNT" not in str(caught.value)


def test_an_environment_asked_for_by_name_never_falls_back(tmp_path: Path) -> None:
    project = find_project(write(tmp_path, PROJECT))
    for asked, environ in (("staging", {}), (None, {"CTFLOW_ENV": "staging"})):
        with pytest.raises(CredentialsError, match="CLEVERTAP_ACCOUNT_ID and CLEVERTAP_PASSCODE"):
            resolve_target(project, asked, environ)


def test_on_a_laptop_a_default_environment_without_credentials_falls_back_with_a_notice(
    tmp_path: Path,
) -> None:
    project = find_project(write(tmp_path, PROJECT + "default_environment: staging\n"))
    target = resolve_target(project, None, {})
    assert target.is_sandbox
    assert target.notice is not None
    assert "'staging'" in target.notice
    assert "CLEVERTAP_ACCOUNT_ID and CLEVERTAP_PASSCODE" in (target.notice)


def test_ctflow_env_variable_selects_the_environment(tmp_path: Path) -> None:
    environ = {"CTFLOW_ENV": "staging", "CLEVERTAP_ACCOUNT_ID": "a", "CLEVERTAP_PASSCODE": "p"}
    target = resolve_target(find_project(write(tmp_path, PROJECT)), None, environ)
    assert target.environment.name == "staging"


def test_unknown_environment_lists_the_declared_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'prod'.*production, sandbox, staging"):
        resolve_target(find_project(write(tmp_path, PROJECT)), "prod", {})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kind: Project\nproject: a\nproject: b\n", "ctflow.yaml:3:1: duplicate key 'project'"),
        ("kind: Project\nproject: [\n", "ctflow.yaml:3:1:"),
        ("kind: Campaign\nproject: a\n", "ctflow.yaml:1:7: kind: 'Project' was expected"),
        ("kind: Project\n", "ctflow.yaml:1:1: missing required field 'project'"),
        (
            "kind: Project\nproject: My Shop/x\n",
            "ctflow.yaml:2:10: project: 'My Shop/x' is not a project id",
        ),
        (
            "kind: Project\nproject: a\nenviroments: {}\n",
            "ctflow.yaml:3:1: enviroments: unknown field (did you mean 'environments'?)",
        ),
        (
            "kind: Project\nproject: a\nenvironments:\n  prod:\n    region: mars\n",
            "ctflow.yaml:5:13: environments.prod.region: 'mars' is not one of",
        ),
        (
            "kind: Project\nproject: a\nenvironments:\n  prod: {}\n",
            "ctflow.yaml:4:9: environments.prod: 'region' is required (or a 'base_url')",
        ),
        (
            "kind: Project\nproject: a\nenvironments:\n  prod:\n    region: in1\n    passcode: x\n",
            "ctflow.yaml:6:5: environments.prod.passcode: unknown field",
        ),
        (
            "kind: Project\nproject: a\nenvironments:\n  prod:\n    base_url: 5\n",
            "ctflow.yaml:5:15: environments.prod.base_url: expected text, found the number 5",
        ),
        (
            "kind: Project\nproject: a\nenvironments:\n  local:\n    base_url: notaurl\n",
            "environments.local.base_url: 'notaurl' does not match",
        ),
        (
            "kind: Project\nproject: a\nenvironments:\n  prod:\n    region: in1\n"
            "    credentials: {passcode: null}\n",
            "environments.prod.credentials.passcode: expected text, found nothing (null)",
        ),
        (
            "kind: Project\nproject: a\nenvironments:\n  sandbox:\n    region: in1\n",
            "environments.sandbox: the sandbox is built in",
        ),
        ("kind: Project\nproject: a\ndefault_environment: prod\n", "'prod' is not declared"),
    ],
)
def test_malformed_ctflow_yaml_says_where(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        find_project(write(tmp_path, text))
    lines = [str(caught.value), *caught.value.problems]
    assert any(problem in line for line in lines), lines
    assert caught.value.exit_code == 3


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "kind: Project\nproject: a\nlabels: [1]\nenvironments:\n  prod:\n    region: x\n"
    with pytest.raises(ConfigError) as caught:
        find_project(write(tmp_path, text))
    assert [p.split(": ")[0].rsplit(":", 2)[1:] for p in caught.value.problems] == [
        ["3", "10"],
        ["6", "13"],
    ]


def test_shipped_example_project_loads_and_validates_against_its_schema() -> None:
    import json

    import jsonschema

    from ctflow.yamlio import load_single

    root = Path(__file__).resolve().parent.parent
    example = root / "examples" / "journeys"
    project = find_project(example)
    assert project.name == "shop"
    assert sorted(project.environments) == ["production", "sandbox", "staging"]
    schema = json.loads((root / "schemas" / "project.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(load_single(example / "ctflow.yaml").data, schema)


# --- where the journal is ------------------------------------------------------------------

JOURNALED = """\
project: shop
journal: postgresql://ci@db.internal/ctflow?schema=shop_journal
environments:
  staging:
    region: in1
    journal: sqlite:///state/staging.db
  production:
    region: eu1
"""
CREDS = {"CLEVERTAP_ACCOUNT_ID": "ABC-123-4567", "CLEVERTAP_PASSCODE": "s3cret-pass"}


def test_without_a_journal_setting_it_is_the_projects_file(tmp_path: Path) -> None:
    journal = resolve_target(find_project(write(tmp_path, PROJECT)), None, {}).journal
    assert journal is not None
    assert (journal.kind, journal.path) == ("sqlite", tmp_path / ".ctflow" / "journal.db")
    assert not journal.is_shared


def test_the_journal_comes_from_the_environment_then_the_project(tmp_path: Path) -> None:
    project = find_project(write(tmp_path, JOURNALED))
    staging = resolve_target(project, "staging", CREDS).journal
    production = resolve_target(project, "production", CREDS).journal
    assert staging is not None
    assert production is not None
    assert (staging.kind, staging.path) == ("sqlite", tmp_path / "state" / "staging.db")
    assert (production.kind, production.schema) == ("postgresql", "shop_journal")
    assert production.url == "postgresql://ci@db.internal/ctflow"
    assert production.shown == "postgresql://ci@db.internal/ctflow (schema shop_journal)"


def test_ctflow_journal_url_wins_and_its_password_is_never_shown(tmp_path: Path) -> None:
    url = "postgres://ci:pg-s3cret@db.internal:5433/ctflow"
    environ = {**CREDS, "CTFLOW_JOURNAL_URL": url}
    journal = resolve_target(find_project(write(tmp_path, JOURNALED)), "staging", environ).journal
    assert journal is not None
    assert (journal.kind, journal.url) == (
        "postgresql",
        "postgresql://ci:pg-s3cret@db.internal:5433/ctflow",
    )
    assert journal.shown == "postgresql://ci:***@db.internal:5433/ctflow"
    assert "pg-s3cret" not in repr(journal)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://db/ctflow", "'mysql://db/ctflow' is not a journal URL"),
        ("sqlite://journal.db", "write sqlite:///PATH (three slashes)"),
        ("postgresql://db/ctflow?schema=Bad-Name", "schema 'Bad-Name' is not a schema name"),
        ("mysql://u:hunter22@db/x", "'mysql://u:***@db/x' is not a journal URL"),
    ],
)
def test_a_journal_url_that_cannot_be_used_says_why(tmp_path: Path, url: str, problem: str) -> None:
    project = find_project(write(tmp_path, PROJECT))
    with pytest.raises(ConfigError) as caught:
        resolve_target(project, None, {"CTFLOW_JOURNAL_URL": url})
    assert str(caught.value).startswith("CTFLOW_JOURNAL_URL: ")
    assert problem in str(caught.value)
    assert "hunter22" not in str(caught.value)


def test_a_password_in_ctflow_yaml_is_refused_without_being_echoed(tmp_path: Path) -> None:
    text = "project: shop\njournal: postgresql://ci:hunter22@db/ctflow\n"
    with pytest.raises(ConfigError) as caught:
        find_project(write(tmp_path, text))
    shown = "\n".join(caught.value.problems) + str(caught.value)
    assert "journal: not a journal URL without a password" in shown
    assert "hunter22" not in shown
