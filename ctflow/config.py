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
from ctflow.yamlio import YamlError, load_single

CONFIG_NAME = "ctflow.yaml"
STATE_DIR = ".ctflow"
SANDBOX = "sandbox"
DEFAULT_ACCOUNT_VAR = "CLEVERTAP_ACCOUNT_ID"
DEFAULT_PASSCODE_VAR = "CLEVERTAP_PASSCODE"
REGIONS = ("in1", "sg1", "us1", "aps3", "mec1", "eu1")
_ENV_KEYS = {"region", "base_url", "credentials", "variables", "db"}


@dataclass(frozen=True)
class Environment:
    """One target account as declared; credentials are variable *names*, never values."""

    name: str
    region: str | None = None
    base_url: str | None = None
    account_id_var: str = DEFAULT_ACCOUNT_VAR
    passcode_var: str = DEFAULT_PASSCODE_VAR
    variables: Mapping[str, Any] = field(default_factory=dict)
    db: str | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.name == SANDBOX


@dataclass(frozen=True)
class Project:
    """``ctflow.yaml`` as loaded; ``root`` is the directory holding it (or the working dir)."""

    root: Path
    name: str
    environments: Mapping[str, Environment]
    default_environment: str = SANDBOX
    labels: tuple[str, ...] = ()
    found: bool = True

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

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
    notice: str | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox_db is not None


def find_project(directory: Path) -> Project:
    """Load ``ctflow.yaml`` from ``directory``; without one, a project with only the sandbox."""
    path = directory / CONFIG_NAME
    if not path.is_file():
        return Project(
            root=directory,
            name=directory.resolve().name or "ctflow",
            environments={SANDBOX: Environment(SANDBOX)},
            found=False,
        )
    try:
        data = load_single(path)
    except YamlError as exc:
        raise ConfigError(str(exc)) from None
    return _parse_project(path, data)


def _parse_project(path: Path, data: Any) -> Project:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with 'kind: Project'")
    kind = data.get("kind", "Project")
    if kind != "Project":
        raise ConfigError(f"{path}: kind must be 'Project', not {kind!r}")
    name = data.get("project")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"{path}: 'project' (the project id used in ownership markers) is required"
        )
    raw_envs = data.get("environments") or {}
    if not isinstance(raw_envs, dict):
        raise ConfigError(f"{path}: 'environments' must be a mapping of name to settings")
    environments = {SANDBOX: Environment(SANDBOX)}
    for env_name, raw in raw_envs.items():
        environments[str(env_name)] = _parse_environment(path, str(env_name), raw or {})
    default = str(data.get("default_environment", SANDBOX))
    if default not in environments:
        raise ConfigError(f"{path}: default_environment {default!r} is not declared")
    labels = data.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise ConfigError(f"{path}: 'labels' must be a list of strings")
    return Project(path.parent, name, environments, default, tuple(labels))


def _parse_environment(path: Path, name: str, raw: Any) -> Environment:
    where = f"{path}: environments.{name}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = sorted(set(raw) - _ENV_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    region = raw.get("region")
    if name == SANDBOX:
        if region is not None or raw.get("credentials"):
            raise ConfigError(f"{where}: the sandbox takes no region or credentials")
    elif region is None and raw.get("base_url") is None:
        raise ConfigError(f"{where}: 'region' is required (one of {', '.join(REGIONS)})")
    if region is not None and region not in REGIONS:
        raise ConfigError(f"{where}.region: {region!r} is not one of {', '.join(REGIONS)}")
    creds = raw.get("credentials") or {}
    if not isinstance(creds, dict) or set(creds) - {"account_id", "passcode"}:
        raise ConfigError(
            f"{where}.credentials: expected 'account_id' and 'passcode', each the NAME of an "
            "environment variable (never the secret itself)"
        )
    variables = raw.get("variables") or {}
    if not isinstance(variables, dict):
        raise ConfigError(f"{where}.variables: expected a mapping")
    return Environment(
        name=name,
        region=region,
        base_url=raw.get("base_url"),
        account_id_var=str(creds.get("account_id", DEFAULT_ACCOUNT_VAR)),
        passcode_var=str(creds.get("passcode", DEFAULT_PASSCODE_VAR)),
        variables=variables,
        db=raw.get("db"),
    )


def resolve_target(project: Project, env_name: str | None, environ: Mapping[str, str]) -> Target:
    """Pick the environment and read its credentials from ``environ``.

    A real environment without credentials falls back to the sandbox with a notice, except
    under ``CI=true``, where it fails (exit 4) naming the missing variables.
    """
    env = project.environment(env_name or environ.get("CTFLOW_ENV") or None)
    if env.is_sandbox:
        return Target(env, sandbox_db=_sandbox_db(project, env))
    missing = [var for var in (env.account_id_var, env.passcode_var) if not environ.get(var)]
    if not missing:
        return Target(
            env, account_id=environ[env.account_id_var], passcode=environ[env.passcode_var]
        )
    names = " and ".join(missing)
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise CredentialsError(
            f"environment {env.name!r} needs credentials: set {names} "
            "(CI=true, so ctflow will not fall back to the sandbox)"
        )
    sandbox = project.environments[SANDBOX]
    return Target(
        sandbox,
        sandbox_db=_sandbox_db(project, sandbox),
        notice=f"environment {env.name!r} has no credentials ({names} unset): "
        "using the built-in sandbox instead",
    )


def _sandbox_db(project: Project, env: Environment) -> Path:
    if env.db:
        db = Path(env.db)
        return db if db.is_absolute() else project.root / db
    return project.state_dir / "sandbox.db"
