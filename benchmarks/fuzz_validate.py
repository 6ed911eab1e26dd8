"""How often hostile input crashes ctflow: mutated copies of the example projects, run as users do.

Each project is a copy of a project under ``examples/`` with a few random mutations: lines cut,
duplicated, swapped or re-indented; YAML bits inserted (explicit tags with bad values, lone
surrogate escapes, anchors, flow brackets, template delimiters); any value of a declaration
replaced by a value of another type or a hostile scalar (huge names, devices, nested lists); keys
renamed or dropped; files emptied, made binary, not UTF-8, turned into directories or pipes, or
added under names that are not UTF-8. Each is then run through ``ctflow.cli.run``, the entry
point of the ``ctflow`` command, in process: ``validate``, and for a project that validates, a
``render`` and a ``send --dry-run`` whose recipient may be any argument (bytes that are not UTF-8
included). A sample also runs as the real command in a subprocess. Output goes through streams
that encode strictly as UTF-8, as a terminal's do.

A crash is an exception that is not a CtflowError reaching the top ("this is a bug", exit 1), any
other exit code than the documented ones, a hang (``--timeout`` seconds) or an exception escaping
``run`` itself. Prints ``crashes/total`` and each crash signature (exception type and the frame
that raised it) with a count and the mutations of its first project, kept under ``--workdir``.

Run: .venv/bin/python benchmarks/fuzz_validate.py [--projects 10000] [--cli-sample 200] [--jobs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctflow import cli  # noqa: E402

EXAMPLES = ROOT / "examples"
EXIT_CODES = {0, 2, 3, 4, 5, 6, 7, 64}
MEMORY_LIMIT = 3 * 1024**3  # a runaway allocation is a MemoryError (a crash), not a dead machine

YAML_BITS = [
    ":", "- ", "  ", "\t", "{", "}", "[", "]", ",", "&a ", "*a", "*nope", "? ", "|\n", ">-\n",
    "'", '"', "#", "---\n", "...\n", "~", "null", "true", "on", "10:00", "2026-02-30", "1e400",
    "!!int ", "!!int 0x1Fz", '!!int ""', "!!float x", "!!bool x", "!!timestamp x", "!!null x",
    "!!binary ", "!!set ", "!!omap ", "!!str ", "!!seq ", "!!map ", "!local ", "!!python/none ",
    '"\\ud800"', '"\\udfff": 1\n', '"\\x00"', "\x00", "\ufeff", "\x85", "\u2028", "<<: *a\n",
    "[[ ", " ]]", "[% for x in y %]", "[% endfor %]", "[# ", "{{ Profile.Name }}", "[[ x + 1 ]]",
    "kind: Campaign\n", "kind: Trigger\n", "kind: Dataset\n", "kind: Journey\n", "\n",
    "9" * 4400, "x" * 300,
]  # fmt: skip
HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, 10**30, 1.5, float("inf"), float("nan"), "", " ", "abc", "\ud800",
    "x" * 300, "n" * 5000, "d/" * 3000, "/dev/zero", "/proc/self/mem", "/", "..", "../" * 40,
    "a\x00b", "\x0c", "~", "*", "[[ nope ]]", "[[ vars.brand + 1 ]]", "[% for %]", "{{ x }}",
    [], {}, [[]], [["number"]], [None], [1, "a"], {"a": {"b": {"c": []}}}, {"type": [["x"]]},
    {"$ref": "#/nope"}, {"$ref": "http://example.com/x.json"}, {"properties": "abc"},
    {"properties": True}, {"items": 5}, {"pattern": "["}, {"required": [1]}, {"enum": []},
    "number", "object", "2027-13-01 25:61", "0d", "-1d", "99999999d", "P1D", "Europe/Nowhere",
]  # fmt: skip
KEY_WORDS = [
    "type", "properties", "items", "required", "enum", "$ref", "$defs", "file", "body_file",
    "key", "kind", "event", "channel", "content", "audience", "schedule", "parameters",
    "fixtures", "steps", "after", "in_last", "where", "columns", "identity", "timestamp",
    "format", "campaign_id", "campaign_ids", "values", "recipient", "variables", "environments",
    "exclude", "timezone", "labels", "anchor", "defaults", "strict", "\ud800", "x" * 300,
]  # fmt: skip
ARGUMENTS = [
    "c-1", "", " ", "q@example.com", "not-an-email", "+919800000000", "x" * 5000, "\x00",
    os.fsdecode(b"q\xff@example.com"), os.fsdecode(b"\xc3\x28"), os.fsdecode(b"\xed\xa0\x80"),
    "--to", "-C", "@/dev/null", "\u2028", "[[ 1 ]]",
]  # fmt: skip


class Hang(BaseException):
    """Raised by the alarm: not an Exception, so ``cli.run`` does not take it for a crash."""


@dataclass
class Outcome:
    """What one project did: the crash signatures it hit and the commands it ran."""

    number: int
    mutations: list[str]
    crashes: list[tuple[str, str]] = field(default_factory=list)  # (signature, command)
    commands: int = 0


# ---------------------------------------------------------------------------------------------
# Mutations: each takes the project directory and the random generator, and says what it did.


def _declaration_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def mutate_lines(root: Path, rng: random.Random) -> str:
    files = [p for p in _declaration_files(root) if p.suffix in (".yaml", ".html", ".csv")]
    path = rng.choice(files)
    text = _text_of(path)
    if text is None:
        return f"lines of {path.name}: unreadable, left"
    lines = text.splitlines(keepends=True) or [""]
    index = rng.randrange(len(lines))
    action = rng.choice(["delete", "duplicate", "insert", "indent", "dedent", "swap", "cut"])
    if action == "delete":
        del lines[index]
    elif action == "duplicate":
        lines.insert(index, lines[index])
    elif action == "insert":
        position = rng.randint(0, len(lines[index]))
        bit = rng.choice(YAML_BITS)
        lines[index] = lines[index][:position] + bit + lines[index][position:]
        action = f"insert {bit[:20]!r}"
    elif action == "indent":
        lines[index] = "  " + lines[index]
    elif action == "dedent":
        lines[index] = lines[index].lstrip(" ")
    elif action == "swap":
        other = rng.randrange(len(lines))
        lines[index], lines[other] = lines[other], lines[index]
    else:
        lines[index] = lines[index][: rng.randint(0, len(lines[index]))] + "\n"
    path.write_text("".join(lines), encoding="utf-8", errors="surrogatepass")
    return f"{action} at {path.relative_to(root)}:{index + 1}"


def _places(value: Any, keys: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield keys
    if isinstance(value, dict):
        for name, child in value.items():
            yield from _places(child, (*keys, name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _places(child, (*keys, index))


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.6 or depth > 2:
        return rng.choice(HOSTILE_VALUES)
    if roll < 0.8:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(KEY_WORDS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def mutate_value(root: Path, rng: random.Random) -> str:
    """Any value (or key) at any place of one YAML document, of any type."""
    files = [p for p in _declaration_files(root) if p.suffix == ".yaml"]
    path = rng.choice(files)
    text = _text_of(path)
    try:
        documents = list(yaml.safe_load_all(text or ""))
    except yaml.YAMLError:
        return f"value in {path.name}: not YAML any more, left"
    if not documents or not isinstance(documents[0], dict):
        return f"value in {path.name}: no mapping, left"
    which = rng.randrange(len(documents))
    data = documents[which]
    places = [keys for keys in _places(data) if keys]
    if not isinstance(data, dict) or not places:
        return f"value in {path.name}: nothing to change, left"
    *parents, last = rng.choice(places)
    parent: Any = data
    for part in parents:
        parent = parent[part]
    action = rng.choice(["replace", "replace", "add", "rename", "drop"])
    if action == "replace":
        parent[last] = _random_value(rng)
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][rng.choice(KEY_WORDS)] = _random_value(rng)
    elif action == "rename" and isinstance(parent, dict):
        parent[rng.choice(KEY_WORDS)] = parent.pop(last)
    elif isinstance(parent, dict):
        del parent[last]
    else:
        parent[last] = _random_value(rng)
    documents[which] = data
    path.write_text(
        yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    shown = ".".join(map(str, [*parents, last]))[:80]
    return f"{action} {shown!r} in {path.relative_to(root)}[{which}]"


def mutate_file(root: Path, rng: random.Random) -> str:
    """A whole file: emptied, binary, not UTF-8, a directory, a pipe, CRLF, or a new one."""
    path = rng.choice(_declaration_files(root))
    action = rng.choice(
        ["empty", "binary", "latin1", "directory", "pipe", "crlf", "bom", "new", "odd name"]
    )
    rel = path.relative_to(root)
    if action == "empty":
        path.write_bytes(b"")
    elif action == "binary":
        path.write_bytes(bytes(rng.randrange(256) for _ in range(64)))
    elif action == "latin1":
        path.write_bytes((_text_of(path) or "").encode("utf-8") + b"\nname: caf\xe9\n")
    elif action == "directory":
        path.unlink()
        path.mkdir()
    elif action == "pipe":
        path.unlink()
        os.mkfifo(path)
    elif action == "crlf":
        path.write_bytes((_text_of(path) or "").replace("\n", "\r\n").encode("utf-8"))
    elif action == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    elif action == "new":
        other = rng.choice([p for p in _declaration_files(root) if p.suffix == ".yaml"])
        target = path.parent / f"copy-{rng.randrange(1000)}.yaml"
        target.write_bytes(other.read_bytes())
        rel = target.relative_to(root)
    else:
        name = os.fsdecode(bytes(rng.randrange(128, 256) for _ in range(4)) + b".yaml")
        target = path.parent / name
        target.write_bytes(path.read_bytes())
        rel = target.relative_to(root)
    return f"{action} {str(rel)[:60]!r}"


MUTATIONS: list[tuple[Callable[[Path, random.Random], str], int]] = [
    (mutate_lines, 5),
    (mutate_value, 4),
    (mutate_file, 1),
]


# ---------------------------------------------------------------------------------------------
# Running ctflow on a project.


def run_in_process(argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    """``ctflow ARGV`` through ``cli.run`` (with ``--debug``, so a crash prints its traceback),
    output through strict UTF-8 streams. ``None`` as the code: ``run`` itself raised."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")
    code: int | None
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.run(["--debug", *argv], {})
    except Hang:
        code, tail = None, f"Hang: more than {timeout:g} s"
    except BaseException as exc:  # whatever escapes run is what is counted
        code, tail = None, f"{type(exc).__name__} escaped run: {exc}"
    else:
        tail = ""
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    texts = []
    for stream in (out, err):
        with contextlib.suppress(ValueError):
            stream.flush()
        texts.append(stream.buffer.getvalue().decode("utf-8", "backslashreplace"))  # type: ignore[attr-defined]
    return code, texts[0], texts[1] + tail


FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+, in (?P<func>\S+)', re.M)
BUG = re.compile(r"this is a bug \((?P<type>[A-Za-z_.]+)")


def crash_signature(code: int | None, err: str) -> str | None:
    """``ExceptionType at ctflow/module.py:function`` for a crash, ``None`` for an answer."""
    if code is None:
        return err.strip().splitlines()[-1][:160] if err.strip() else "no answer"
    bug = BUG.search(err)
    if bug is None and "Traceback (most recent call last)" not in err:
        return None if code in EXIT_CODES else f"exit code {code}"
    frames = [m for m in FRAME.finditer(err) if "/ctflow/" in m["file"]]
    where = ""
    if frames:
        last = frames[-1]
        where = f" at {last['file'].split('/ctflow/', 1)[1]}:{last['func']}"
    kind = bug["type"] if bug else "Traceback"
    return f"{kind}{where}"


def commands_for(root: Path, rng: random.Random, valid: bool) -> list[list[str]]:
    """What a project runs after ``validate``: a render and a dry-run send when it is valid."""
    if not valid:
        return []
    triggers = sorted(re.findall(r"^key: (\S+)", "\n".join(_texts(root / "triggers")), flags=re.M))
    if not triggers:
        return []
    key = rng.choice(triggers)
    recipient = rng.choice(ARGUMENTS)
    fixture = rng.choice(["one-item", "many-items", "final", "first", "nope", "\udcff"])
    return [
        ["-C", str(root), "render", key],
        ["-C", str(root), "send", key, "--to", recipient, "--fixture", fixture, "--dry-run"],
    ]


def _texts(directory: Path) -> Iterator[str]:
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else ():
        text = _text_of(path) if path.is_file() else None
        if text is not None:
            yield text


def make_project(workdir: Path, number: int, seed: int) -> tuple[Path, list[str], random.Random]:
    rng = random.Random(f"{seed}:{number}")
    example = rng.choice(sorted(p for p in EXAMPLES.iterdir() if (p / "ctflow.yaml").is_file()))
    root = workdir / f"p{number}"
    shutil.copytree(example, root, ignore=shutil.ignore_patterns(".ctflow"))
    mutations = [f"copy of examples/{example.name}"]
    functions, weights = zip(*MUTATIONS, strict=True)
    for _ in range(rng.randint(1, 4)):
        mutate = rng.choices(functions, weights)[0]
        try:
            mutations.append(mutate(root, rng))
        except (OSError, ValueError, IndexError) as exc:
            mutations.append(f"{mutate.__name__}: skipped ({type(exc).__name__})")
    return root, mutations, rng


def fuzz_one(job: tuple[int, int, str, float]) -> Outcome:
    number, seed, workdir, timeout = job
    root, mutations, rng = make_project(Path(workdir), number, seed)
    outcome = Outcome(number, mutations)
    try:
        code, _, err = run_in_process(["-C", str(root), "validate"], timeout)
        outcome.commands += 1
        signature = crash_signature(code, err)
        if signature:
            outcome.crashes.append((signature, "validate"))
        for argv in commands_for(root, rng, code == 0):
            code, _, err = run_in_process(argv, timeout)
            outcome.commands += 1
            signature = crash_signature(code, err)
            if signature:
                outcome.crashes.append((signature, " ".join(argv[2:4])))
    finally:
        if not outcome.crashes:
            shutil.rmtree(root, ignore_errors=True)
    return outcome


def fuzz_cli(number: int, seed: int, workdir: Path, timeout: float) -> Outcome:
    """One project through the real command, in a subprocess (arguments as bytes)."""
    root, mutations, rng = make_project(workdir, number, seed)
    outcome = Outcome(number, [*mutations, "(through the ctflow command)"])
    runs = [["validate"], *[argv[2:] for argv in commands_for(root, rng, True)]]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    for argv in runs:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "ctflow", "--debug", "-C", os.fsencode(root)]
                + [os.fsencode(word.replace("\x00", "")) for word in argv],  # argv holds no NUL
                capture_output=True,
                timeout=timeout + 20,
                env=env,
                cwd=root,
            )
            err = done.stderr.decode("utf-8", "backslashreplace")
            code: int | None = done.returncode
            if "Traceback (most recent call last)" in err and "this is a bug" not in err:
                code = None
        except subprocess.TimeoutExpired:
            code, err = None, "Hang: the ctflow command did not end"
        outcome.commands += 1
        signature = crash_signature(code, err)
        if signature:
            outcome.crashes.append((signature, f"ctflow {' '.join(argv[:2])}"))
    if not outcome.crashes:
        shutil.rmtree(root, ignore_errors=True)
    return outcome


def _worker_setup() -> None:
    """Each worker: a memory ceiling, an alarm for hangs, and no debug logging to the streams."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGALRM, _on_alarm)
    logging.getLogger().addHandler(logging.NullHandler())  # --debug's basicConfig stays idle
    logging.getLogger().setLevel(logging.WARNING)


def _on_alarm(_signum: int, _frame: object) -> None:
    raise Hang


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000, help="projects run in process")
    parser.add_argument("--cli-sample", type=int, default=200, help="projects run as the command")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds a command may take")
    parser.add_argument("--workdir", type=Path, help="where projects (and crashes) are kept")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ctflow-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    jobs = [(n, args.seed, str(workdir), args.timeout) for n in range(args.projects)]
    outcomes: list[Outcome] = []
    with multiprocessing.get_context("fork").Pool(args.jobs, _worker_setup) as pool:
        for outcome in pool.imap_unordered(fuzz_one, jobs, chunksize=8):
            outcomes.append(outcome)
            if len(outcomes) % 1000 == 0:
                done = sum(1 for o in outcomes if o.crashes)
                print(f"  {len(outcomes):,} projects, {done} crashed", file=sys.stderr, flush=True)
    in_process = time.perf_counter() - started
    cli_outcomes = [
        fuzz_cli(args.projects + n, args.seed, workdir, args.timeout)
        for n in range(args.cli_sample)
    ]
    elapsed = time.perf_counter() - started
    report(outcomes, cli_outcomes, in_process, elapsed, workdir)
    return 1 if any(o.crashes for o in [*outcomes, *cli_outcomes]) else 0


def report(
    outcomes: list[Outcome],
    cli_outcomes: list[Outcome],
    in_process: float,
    elapsed: float,
    workdir: Path,
) -> None:
    everything = [*outcomes, *cli_outcomes]
    crashed = [o for o in everything if o.crashes]
    commands = sum(o.commands for o in everything)
    print(f"fuzz_validate: {len(everything):,} mutated projects, {commands:,} commands")
    print(
        f"  in process: {len(outcomes):,} projects in {in_process:.0f} s; "
        f"through the ctflow command: {len(cli_outcomes):,} projects"
    )
    print(f"crashes/total = {len(crashed)}/{len(everything)}")
    print(
        f"  in process {sum(1 for o in outcomes if o.crashes)}/{len(outcomes)}, "
        f"command {sum(1 for o in cli_outcomes if o.crashes)}/{len(cli_outcomes)}; "
        f"{elapsed:.0f} s in all"
    )
    signatures = Counter(signature for o in crashed for signature, _ in dict.fromkeys(o.crashes))
    for signature, count in signatures.most_common():
        first = next(o for o in crashed if any(s == signature for s, _ in o.crashes))
        command = next(c for s, c in first.crashes if s == signature)
        print(f"  {count:5}  {signature}")
        print(f"         first: {workdir / f'p{first.number}'} ({command}): {first.mutations}")


if __name__ == "__main__":
    sys.exit(main())
