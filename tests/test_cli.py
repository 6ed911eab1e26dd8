"""The command line as a user meets it: version, help, exit codes, the one error handler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ctflow import __version__, cli
from ctflow.commands import sandbox as sandboxcmd
from ctflow.errors import GateError


def run(capsys: pytest.CaptureFixture[str], *argv: str, **environ: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"ctflow {__version__}\n", "")


def test_help_lists_commands_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "sandbox" in out
    assert "now" in out
    assert "64 usage" in out
    assert "4 credentials" in out


@pytest.mark.parametrize("command", ["plan", "apply", "upload", "send", "now"])
def test_env_help_says_where_the_environment_comes_from(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    cli.run([command, "--help"], {})
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: $CTFLOW_ENV, else ctflow.yaml's default_environment, else sandbox)" in shown


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_target_help_names_its_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    cli.run([command, "--help"], {})
    shown = " ".join(capsys.readouterr().out.split())
    assert f"{command.title()} only this campaign, or all steps of this journey" in shown


@pytest.mark.parametrize(
    "argv",
    [("no-such-command",), ("now", "--format", "yaml"), ("sandbox", "seed", "--profiles", "x")],
)
def test_usage_errors_exit_64(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 64
    assert "Usage:" in err or "Error:" in err


def test_missing_directory_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "-C", str(tmp_path / "nowhere"), "sandbox", "reset")
    assert code == 64
    assert "is not a directory" in err


def test_broken_ctflow_yaml_exits_3_saying_where(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ctflow.yaml").write_text("kind: Project\nproject: a\nproject: b\n")
    code, _, err = run(capsys, "-C", str(tmp_path), "sandbox", "reset")
    assert code == 3
    assert f"{tmp_path / 'ctflow.yaml'}:3:1: duplicate key 'project'" in err


def test_expected_errors_exit_with_their_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> int:
        raise GateError("refusing to stop running campaign 1700000001")

    monkeypatch.setattr(sandboxcmd, "reset", refuse)
    code, _, err = run(capsys, "-C", str(tmp_path), "sandbox", "reset")
    assert (code, err) == (6, "ctflow: refusing to stop running campaign 1700000001\n")


def test_unexpected_exception_is_one_line_bug_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def boom(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("disk exploded\nsecond line")

    monkeypatch.setattr(sandboxcmd, "reset", boom)
    code, _, err = run(capsys, "-C", str(tmp_path), "sandbox", "reset")
    assert code == 1
    assert err.splitlines() == [
        "ctflow: this is a bug (RuntimeError: disk exploded); re-run with --debug for the "
        "traceback and report it."
    ]
    code, _, err = run(capsys, "--debug", "-C", str(tmp_path), "sandbox", "reset")
    assert code == 1
    assert "Traceback (most recent call last)" in err


def test_passcode_is_masked_even_in_bug_reports(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def leaky(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("header X-CleverTap-Passcode: hunter2-secret was refused")

    monkeypatch.setattr(sandboxcmd, "reset", leaky)
    code, out, err = run(
        capsys,
        "--debug",
        "-C",
        str(tmp_path),
        "sandbox",
        "reset",
        CLEVERTAP_PASSCODE="hunter2-secret",
    )
    assert code == 1
    assert "hunter2-secret" not in out + err
    assert "X-CleverTap-Passcode: ***" in err


def test_interrupt_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(sandboxcmd, "reset", interrupted)
    code, _, err = run(capsys, "-C", str(tmp_path), "sandbox", "reset")
    assert code == 130
    assert err.strip() == "ctflow: interrupted"


def test_python_dash_m_and_console_script_agree() -> None:
    module = subprocess.run(
        [sys.executable, "-m", "ctflow", "--version"], capture_output=True, text=True, check=False
    )
    script = Path(sys.executable).with_name("ctflow")
    console = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert module.returncode == console.returncode == 0
    assert module.stdout == console.stdout == f"ctflow {__version__}\n"
