"""Project configuration: finding ``ctflow.yaml``, its environments, and resolving credentials.

Owns the rules of DESIGN.md "Targets": ``sandbox`` is built in and the default; real environments
take their region from ``ctflow.yaml`` and their credentials from environment variables only.
Ambient inputs (the process environment, the working directory) are parameters; this module never
reads ``os.environ`` itself. It must not import the client, the sandbox or click.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctflow.errors import ConfigError, CredentialsError
from ctflow.journal.location import JournalLocation, parse_location
from ctflow.masking import is_sensitive
from ctflow.resources import validator
from ctflow.schemacheck import violations
from ctflow.yamlio import Document, YamlError, load_single

CONFIG_NAME = "ctflow.yaml"
STATE_DIR = ".ctflow"
JOURNAL_FILE = "journal.db"
JOURNAL_URL_VAR = "CTFLOW_JOURNAL_URL"
SANDBOX = "sandbox"
DEFAULT_ACCOUNT_VAR = "CLEVERTAP_ACCOUNT_ID"
DEFAULT_PASSCODE_VAR = "CLEVERTAP_PASSCODE"
DEFAULT_TOKEN_VAR = "CLEVERTAP_TOKEN"
CI_TRUE = ("1", "true", "yes")


@dataclass(frozen=True)
class Environment:
    """One target account as declared; credentials are variable *names*, never values."""

    name: str
    region: str | None = None
    base_url: str | None = None
    account_id_var: str = DEFAULT_ACCOUNT_VAR
    passcode_var: str = DEFAULT_PASSCODE_VAR
    token_var: str = DEFAULT_TOKEN_VAR
    """The account token's variable: optional, only triggering several campaigns needs it."""
    variables: Mapping[str, Any] = field(default_factory=dict)
    db: str | None = None
    timezone: str | None = None
    journal: str | None = None
    """This environment's journal URL (``journal:``), instead of the project's."""
    test_recipients: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Named lists of test identities (``test_recipients:``) for ``ctflow send --test``."""

    @property
    def is_sandbox(self) -> bool:
        return self.name == SANDBOX


@dataclass(frozen=True)
class Limits:
    """CleverTap's account limits that declarations are checked against (clevertap-api.md §1.5)."""

    events: int = 512
    event_properties: int = 100
    profile_properties: int = 256


@dataclass(frozen=True)
class Project:
    """``ctflow.yaml`` as loaded; ``root`` is the directory holding it (or the working dir)."""

    root: Path
    name: str
    environments: Mapping[str, Environment]
    default_environment: str = SANDBOX
    labels: tuple[str, ...] = ()
    found: bool = True
    timezone: str = "UTC"
    variables: Mapping[str, Any] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    document: Document | None = field(default=None, repr=False, compare=False)
    journal: str | None = None
    """The project's journal URL (``journal:``); the default is the SQLite file below."""

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def variables_for(self, env: Environment) -> dict[str, Any]:
        """Template variables of ``env``: the shared ones, overridden by the environment's."""
        return {**self.variables, **env.variables}

    def journal_for(self, env: Environment, environ: Mapping[str, str]) -> JournalLocation:
        """The journal of ``env``: ``CTFLOW_JOURNAL_URL``, else the environment's ``journal:``,
        else the project's, else ``.ctflow/journal.db``."""
        if environ.get(JOURNAL_URL_VAR):
            return parse_location(environ[JOURNAL_URL_VAR], self.root, source=JOURNAL_URL_VAR)
        if env.journal is not None:
            source = f"{self._where()}: environments.{env.name}.journal"
            return parse_location(env.journal, self.root, source=source)
        if self.journal is not None:
            return parse_location(self.journal, self.root, source=f"{self._where()}: journal")
        return JournalLocation.sqlite(self.state_dir / JOURNAL_FILE)

    def timezone_for(self, env: Environment) -> str:
        """The account timezone of ``env``."""
        return env.timezone or self.timezone

    def secret_values(self) -> set[str]:
        """The values of the template variables named like secrets (``api_token``), in every
        environment: masked in everything printed, as the passcode is (create bodies still
        carry them to CleverTap)."""
        return {
            str(value)
            for variables in (self.variables, *(e.variables for e in self.environments.values()))
            for name, value in variables.items()
            if is_sensitive(name) and isinstance(value, str | int) and len(str(value)) >= 4
        }

    def environment(self, name: str | None) -> Environment:
        chosen = name or self.default_environment
        try:
            return self.environments[chosen]
        except KeyError:
            known = ", ".join(sorted(self.environments))
            raise ConfigError(
                f"unknown environment {chosen!r}; {self._where()} declares: {known}"
            ) from None

    def _where(self) -> str:
        return str(self.root / CONFIG_NAME) if self.found else "the built-in defaults"


@dataclass(frozen=True)
class Target:
    """A resolved environment ready to connect: a sandbox database, or a real account."""

    environment: Environment
    sandbox_db: Path | None = None
    account_id: str | None = None
    passcode: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    """The account token (``X-CleverTap-Token``), when its variable is set."""
    notice: str | None = None
    journal: JournalLocation | None = None
    """Where this target's journal is; ``None``: the project's default file."""

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox_db is not None


def find_project(directory: Path) -> Project:
    """Load ``ctflow.yaml`` from ``directory`` or its nearest parent that has one (as git finds
    its repository); without any, a project with only the sandbox, rooted at ``directory``."""
    path = _nearest_config(directory)
    if path is None:
        return default_project(directory)
    try:
        document = load_single(path)
    except YamlError as exc:
        raise ConfigError(str(exc)) from None
    problems = _problems(document)
    if problems:
        raise ConfigError(f"{path} is not a valid ctflow project file", problems)
    return _project(path, document)


def salvaged_project(directory: Path) -> Project | None:
    """What can still be used of a ``ctflow.yaml`` that :func:`find_project` refused: its
    fields the schema found no fault in, when its environments and variables are among them
    (templates rest on those); ``None`` otherwise. For ``validate``, which reports the faults."""
    path = _nearest_config(directory)
    if path is None:
        return None
    try:
        document = load_single(path)
    except YamlError:
        return None
    data = document.data
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        return None
    faults = {v.keys[0] for v in violations(validator("project"), data) if v.keys}
    if faults & {"environments", "variables"}:
        return None
    kept = {name: value for name, value in data.items() if name not in faults}
    if not isinstance(kept.get("project"), str):
        kept["project"] = path.parent.resolve().name or "ctflow"
    return _project(path, Document(path, kept, document.node))


def _nearest_config(directory: Path) -> Path | None:
    """``ctflow.yaml`` in ``directory`` or above, spelled relative to ``directory`` (``../..``)."""
    candidate = directory
    try:
        resolved = directory.resolve()
    except OSError:
        return None
    for _ in range(len(resolved.parents) + 1):
        if (candidate / CONFIG_NAME).is_file():
            return candidate / CONFIG_NAME
        candidate = candidate / ".."
    return None


def project_root(directory: Path) -> Path:
    """The directory of the nearest ``ctflow.yaml`` (``directory`` itself when there is none)."""
    path = _nearest_config(directory)
    return path.parent if path is not None else directory


def default_project(directory: Path) -> Project:
    """The project of a directory without ``ctflow.yaml``: only the built-in sandbox."""
    return Project(
        root=directory,
        name=directory.resolve().name or "ctflow",
        environments={SANDBOX: Environment(SANDBOX)},
        found=False,
    )


def _problems(document: Document) -> list[str]:
    """Every way ``ctflow.yaml`` breaks its JSON Schema or the rules a schema cannot say."""
    data = document.data
    problems = [
        f"{document.where(v.keys) if not v.at_key else _key_where(document, v.keys)}: {v.text()}"
        for v in violations(validator("project"), data)
    ]
    if problems or not isinstance(data, dict):
        return problems
    environments = data.get("environments") or {}
    for name, env in environments.items():
        keys = ["environments", name]
        if name == SANDBOX and ({"region", "credentials", "base_url"} & set(env)):
            problems.append(
                f"{document.where(keys)}: environments.{name}: the sandbox is built in; it takes "
                "only 'db' and 'variables'"
            )
        elif name != SANDBOX and "region" not in env and "base_url" not in env:
            problems.append(
                f"{document.where(keys)}: environments.{name}: 'region' is required (or a "
                "'base_url')"
            )
    default = data.get("default_environment", SANDBOX)
    if default != SANDBOX and default not in environments:
        problems.append(
            f"{document.where(['default_environment'])}: default_environment: {default!r} is "
            "not declared under environments"
        )
    return problems


def _key_where(document: Document, keys: tuple[str | int, ...]) -> str:
    line, column = document.position(keys, key=True)
    return f"{document.path}:{line}:{column}"


def _project(path: Path, document: Document) -> Project:
    data: dict[str, Any] = document.data
    environments = {SANDBOX: Environment(SANDBOX)}
    for name, raw in (data.get("environments") or {}).items():
        if name == SANDBOX:
            environments[SANDBOX] = Environment(
                SANDBOX,
                variables=raw.get("variables") or {},
                db=raw.get("db"),
                journal=raw.get("journal"),
                test_recipients=_test_recipients(raw),
            )
            continue
        creds = raw.get("credentials") or {}
        environments[name] = Environment(
            name=name,
            region=raw.get("region"),
            base_url=raw.get("base_url"),
            account_id_var=creds.get("account_id", DEFAULT_ACCOUNT_VAR),
            passcode_var=creds.get("passcode", DEFAULT_PASSCODE_VAR),
            token_var=creds.get("token", DEFAULT_TOKEN_VAR),
            variables=raw.get("variables") or {},
            db=raw.get("db"),
            timezone=raw.get("timezone"),
            journal=raw.get("journal"),
            test_recipients=_test_recipients(raw),
        )
    limits = data.get("limits") or {}
    return Project(
        root=path.parent,
        name=data["project"],
        environments=environments,
        default_environment=data.get("default_environment", SANDBOX),
        labels=tuple(data.get("labels") or ()),
        timezone=data.get("timezone", "UTC"),
        variables=data.get("variables") or {},
        exclude=tuple(data.get("exclude") or ()),
        limits=Limits(**{k: v for k, v in limits.items() if k in Limits.__dataclass_fields__}),
        document=document,
        journal=data.get("journal"),
    )


def _test_recipients(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    lists = raw.get("test_recipients") or {}
    return {str(name): tuple(identities) for name, identities in lists.items()}


def resolve_target(project: Project, env_name: str | None, environ: Mapping[str, str]) -> Target:
    """Pick the environment and read its credentials from ``environ``.

    An environment asked for by name (``--env`` or ``CTFLOW_ENV``) must have its credentials,
    else exit 4 naming the missing variables. Only a real ``default_environment`` may fall back
    to the sandbox (with a notice), and never under ``CI=true``.
    """
    asked = env_name or environ.get("CTFLOW_ENV") or None
    env = project.environment(asked)
    if env.is_sandbox:
        journal = project.journal_for(env, environ)
        return Target(env, sandbox_db=_sandbox_db(project, env), journal=journal)
    missing = [var for var in (env.account_id_var, env.passcode_var) if not environ.get(var)]
    if not missing:
        return Target(
            env,
            account_id=environ[env.account_id_var],
            passcode=environ[env.passcode_var],
            token=environ.get(env.token_var) or None,
            journal=project.journal_for(env, environ),
        )
    names = " and ".join(missing)
    if asked is not None or environ.get("CI", "").lower() in CI_TRUE:
        why = (
            "CI=true, so ctflow will not fall back to the sandbox"
            if asked is None
            else ("it was asked for by name, so ctflow will not fall back to the sandbox")
        )
        raise CredentialsError(f"environment {env.name!r} needs credentials: set {names} ({why})")
    sandbox = project.environments[SANDBOX]
    return Target(
        sandbox,
        sandbox_db=_sandbox_db(project, sandbox),
        journal=project.journal_for(sandbox, environ),
        notice=f"default environment {env.name!r} has no credentials ({names} unset): "
        "using the built-in sandbox instead",
    )


def journal_location(project: Project, target: Target) -> JournalLocation:
    """Where ``target``'s journal is (a target made by hand has the project's default)."""
    return target.journal or JournalLocation.sqlite(project.state_dir / JOURNAL_FILE)


def _sandbox_db(project: Project, env: Environment) -> Path:
    if env.db:
        db = Path(env.db)
        return db if db.is_absolute() else project.root / db
    return project.state_dir / "sandbox.db"
