"""The triggers' part of ``ctflow plan``: every trigger rendered with each of its fixtures, as
``ctflow send`` would send it, in the working tree and as declared at a git revision, then
compared (:func:`ctflow.plan.triggerdiff.compare`). Never fails the plan: what cannot be
compared raises :class:`~ctflow.plan.gitbase.Unavailable` with the reason."""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from pathlib import Path

from ctflow.config import Environment, Project
from ctflow.errors import CtflowError, InvalidInput
from ctflow.masking import mask, masked
from ctflow.plan.gitbase import Unavailable, extract
from ctflow.plan.triggerdiff import TriggerReport, compare
from ctflow.send import message
from ctflow.send.text import body_lines
from ctflow.spec.model import Decl, Declarations
from ctflow.spec.validate import load

RECIPIENT = "<recipient>"


def report(
    declarations: Declarations, env: str, base: str, secrets: Collection[str] = ()
) -> TriggerReport:
    """The working tree's triggers against those at revision ``base``, rendered in ``env``."""
    project = declarations.project
    with tempfile.TemporaryDirectory(prefix="ctflow-base-") as tmp:
        extract(project.root, base, Path(tmp))
        try:
            old = load(Path(tmp))
        except CtflowError as exc:
            raise Unavailable(f"the declarations at {base} do not load: {exc.message}") from None
        old_env = old.project.environments.get(env)
        if old_env is None:
            raise Unavailable(f"environment {env!r} is not declared at {base}")
        secrets = {*secrets, *old.project.secret_values()}
        before = renders(old, old_env, secrets)
    return compare(before, renders(declarations, project.environment(env), secrets), base)


def renders(
    declarations: Declarations, env: Environment, secrets: Collection[str] = ()
) -> dict[str, dict[str, list[str]]]:
    """Trigger key → fixture → the lines of its request; secrets masked."""
    return {
        key: {
            fixture["name"]: [
                mask(line, secrets)
                for line in render(decl, declarations.project, env, fixture["name"])
            ]
            for fixture in decl.data.get("fixtures") or []
        }
        for key, decl in declarations.triggers.items()
    }


def render(decl: Decl, project: Project, env: Environment, fixture: str) -> list[str]:
    """``POST <endpoint>`` and the request's ``path: value`` lines (sensitive paths masked), or
    why it does not render: a broken render is a difference worth showing, not an error."""
    try:
        built = message.with_fixture(decl, project, env, fixture)
    except InvalidInput as exc:
        return [f"(does not render: {exc.message})", *(f"  {p}" for p in exc.problems)]
    except CtflowError as exc:
        return [f"(does not render: {exc.message})"]
    return [f"POST {built.endpoint}", *body_lines(masked(built.request([RECIPIENT])))]
