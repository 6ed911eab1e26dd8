"""``ctflow upload`` through ``cli.run``: what a user types and sees. Most tests run against the
project's file sandbox (the default target); those that need faults serve a sandbox over
loopback and point an environment ``local`` at it, with credentials in CLEVERTAP_* variables.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ctflow.journal import JOURNAL_NAME
from ctflow.sandbox import Sandbox
from ctflow.upload import report
from tests.upload.support import (
    CREDENTIALS,
    Calls,
    Ran,
    Served,
    batch_states,
    ctflow,
    event,
    events,
    file_sandbox,
    lock_held_elsewhere,
    numbers,
    once,
    profile,
    write_jsonl,
    write_project,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "journeys"
IST = ZoneInfo("Asia/Kolkata")

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "journeys"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".ctflow"))
    return root


def stored(root: Path) -> Any:
    """The numbers of the events the project's file sandbox holds, with their copies."""
    sb = file_sandbox(root)
    try:
        return numbers(sb)
    finally:
        sb.close()


def dead_letters(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- the file sandbox -----------------------------------------------------------------------


def test_jsonl_events_upload_once_a_rerun_skips_them_and_restart_sends_again(
    capsys: Capsys, project: Path
) -> None:
    write_jsonl(project / "events.jsonl", events(2500))

    first = ctflow(capsys, project, "upload", "events", "events.jsonl")
    assert first.code == 0, first.err
    assert "sent 2,500 of 2,500 rows" in first.out
    assert stored(project) == {n: 1 for n in range(1, 2501)}

    again = ctflow(capsys, project, "upload", "events", "events.jsonl")
    assert again.code == 0, again.err
    assert "sent 0 of 2,500 rows" in again.out
    assert "already uploaded: 2,500 rows, in batches an earlier run delivered" in again.out
    assert stored(project) == {n: 1 for n in range(1, 2501)}, "nothing sent twice"

    restart = ctflow(capsys, project, "upload", "events", "events.jsonl", "--restart")
    assert restart.code == 0, restart.err
    assert "--restart: sending every batch again (3 recorded batch(es) forgotten)" in restart.err
    assert stored(project) == {n: 2 for n in range(1, 2501)}, "the user asked for it"


TWICE = "arrive twice (CleverTap does not deduplicate events)"


def test_a_changed_events_file_warns_that_its_old_rows_arrive_twice(
    capsys: Capsys, project: Path
) -> None:
    write_jsonl(project / "events.jsonl", events(10))
    assert ctflow(capsys, project, "upload", "events", "events.jsonl").code == 0
    write_jsonl(project / "events.jsonl", events(11))

    again = ctflow(capsys, project, "upload", "events", "events.jsonl")
    assert again.code == 0, again.err
    assert TWICE in again.err
    assert stored(project) == {**{n: 2 for n in range(1, 11)}, 11: 1}


@pytest.mark.parametrize(
    ("wrong", "right", "records"),
    [("profiles", "events", events(10)), ("events", "profiles", [profile("u-1", Name="A")])],
)
def test_a_file_first_sent_as_the_wrong_kind_is_not_said_to_arrive_twice(
    capsys: Capsys, project: Path, wrong: str, right: str, records: list[dict[str, Any]]
) -> None:
    """Every row of the wrong-kind upload was rejected: nothing of it is in the account."""
    write_jsonl(project / "data.jsonl", records)
    first = ctflow(capsys, project, "upload", wrong, "data.jsonl")
    assert first.code == 3, "every row is rejected"
    for _ in range(2):
        ran = ctflow(capsys, project, "upload", right, "data.jsonl")
        assert ran.code == 0, ran.err
        assert TWICE not in ran.err
    write_jsonl(project / "data.jsonl", [*records, event(99)])
    changed = ctflow(capsys, project, "upload", "events", "data.jsonl")
    assert (TWICE in changed.err) is (right == "events")


def test_the_example_csv_dataset_is_mapped_dated_and_checked_against_its_schema(
    capsys: Capsys, example: Path
) -> None:
    csv = example / "data" / "loyalty.csv"
    with csv.open("a") as rows:
        rows.write("C100234,2026-05-04T11:42:10+05:30,lots,purchase,SO-1\n")  # line 22
        rows.write("C100235,2026-05-04 11:42:10,10,bonus,\n")  # line 23: not in the enum
        rows.write("C100236,2026-05-04 11:42:10,10,review,\n")  # naive: the project's IST

    ran = ctflow(capsys, example, "upload", "events", "data/loyalty.csv")
    assert ran.code == 3, "two rows were rejected"
    assert f"{csv} (dataset loyalty-backfill-2026)" in ran.out
    assert "rejected: 2 by ctflow, 0 by CleverTap" in ran.out

    sb = file_sandbox(example)
    try:
        loyalty = sb.events("Loyalty Points Earned")
    finally:
        sb.close()
    assert len(loyalty) == 21
    first = next(e for e in loyalty if e["props"].get("Order ID") == "SO-2026-000112")
    assert first["identity"] == "C100234"
    assert first["ts"] == int(datetime.fromisoformat("2026-01-04T11:42:10+05:30").timestamp())
    assert first["props"] == {"Points": 250, "Reason": "purchase", "Order ID": "SO-2026-000112"}
    review = next(e for e in loyalty if e["identity"] == "C100871" and e["props"]["Points"] == 50)
    assert review["props"] == {"Points": 50, "Reason": "review"}, "an empty cell is no property"
    naive = next(e for e in loyalty if e["identity"] == "C100236")
    assert naive["ts"] == int(datetime(2026, 5, 4, 11, 42, 10, tzinfo=IST).timestamp())

    dead = next((example / ".ctflow" / "rejected").glob("loyalty.*.jsonl"))
    assert [(d["line"], d["rejected_by"]) for d in dead_letters(dead)] == [
        (22, "ctflow"),
        (23, "ctflow"),
    ]
    assert "Points" in dead_letters(dead)[0]["reason"]
    assert dead_letters(dead)[1]["record"]["reason"] == "bonus", "the row as read"


def test_a_csv_upload_closes_the_file_it_reads(capsys: Capsys, example: Path) -> None:
    ran = ctflow(capsys, example, "upload", "events", "data/loyalty.csv")
    assert ran.code == 0, ran.err
    assert stored(example) == {None: 20}, "20 loyalty events, which carry no n"


def test_the_example_profiles_dataset_sets_each_customer(capsys: Capsys, example: Path) -> None:
    ran = ctflow(capsys, example, "upload", "profiles", "data/vip-customers.jsonl")
    assert ran.code == 0, ran.err

    text = (example / "data" / "vip-customers.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines()]
    sb = file_sandbox(example)
    try:
        assert sb.store.counts()["profiles"] == len(rows) == 10
        for row in rows:
            found = sb.profile(row.pop("customer_id"))
            assert found is not None
            date = datetime.fromisoformat(row["Last Order Date"]).replace(tzinfo=IST)
            row["Last Order Date"] = f"$D_{int(date.timestamp())}"
            assert found["profileData"] == row
    finally:
        sb.close()


def test_a_gzip_file_is_read_like_the_plain_one(capsys: Capsys, project: Path) -> None:
    write_jsonl(project / "events.jsonl.gz", events(1200), gz=True)
    ran = ctflow(capsys, project, "upload", "events", "events.jsonl.gz")
    assert ran.code == 0, ran.err
    assert stored(project) == {n: 1 for n in range(1, 1201)}


def test_tokens_reach_profiles_that_exist_and_the_others_are_dead_lettered(
    capsys: Capsys, project: Path
) -> None:
    devices = [{"objectId": f"dev-{i}", "ts": 1_763_600_000, "profileData": {}} for i in range(3)]
    write_jsonl(project / "devices.jsonl", devices)
    assert ctflow(capsys, project, "upload", "profiles", "devices.jsonl").code == 0

    tokens = [
        {"objectId": f"dev-{i}", "tokenData": {"id": f"fcm-token-{i}", "type": "fcm"}}
        for i in range(4)  # dev-3 has no profile: CleverTap refuses its token (530)
    ]
    write_jsonl(project / "tokens.jsonl", tokens)
    ran = ctflow(capsys, project, "upload", "tokens", "tokens.jsonl", "--format", "json")
    assert ran.code == 3
    summary = ran.json()["files"][0]
    assert (summary["accepted"], summary["rejected_by_clevertap"]) == (3, 1)
    assert [(d["line"], d["code"]) for d in dead_letters(Path(summary["dead_letter"]))] == [
        (4, 530)
    ]

    sb = file_sandbox(project)
    try:
        for i in range(3):
            found = sb.store.find_profile("objectId", f"dev-{i}")
            assert found is not None
            assert [p["push_token"] for p in found.platform] == [f"fcm-token-{i}"]
        assert sb.store.find_profile("objectId", "dev-3") is None
    finally:
        sb.close()


SUMMARY_FILE_KEYS = {
    "file",
    "kind",
    "dataset",
    "batch_prefix",
    "rows",
    "accepted",
    "rejected_locally",
    "rejected_by_clevertap",
    "already_uploaded",
    "batches_sent",
    "batches_already_uploaded",
    "requests",
    "retried",
    "rate_limited",
    "resent_ambiguous",
    "mean_round_trip_ms",
    "elapsed_seconds",
    "records_per_second",
    "ambiguous_batches",
    "failed_batches",
    "unavailable",
    "interrupted",
    "dead_letter",
}
SUMMARY_TOTAL_KEYS = {
    "rows",
    "accepted",
    "rejected_locally",
    "rejected_by_clevertap",
    "already_uploaded",
    "retried",
    "elapsed_seconds",
    "records_per_second",
    "ambiguous_batches",
    "unavailable",
    "interrupted",
}


def test_json_summary_has_the_documented_shape_and_the_dead_letter_path(
    capsys: Capsys, project: Path
) -> None:
    records = events(1500)
    records[6] = {"identity": "u-1", "evtName": "Product Viewed", "ts": 1_763_600_000_000}
    write_jsonl(project / "a.jsonl", records)
    write_jsonl(project / "b.jsonl", events(10, start=5001))

    ran = ctflow(capsys, project, "upload", "events", "a.jsonl", "b.jsonl", "--format", "json")
    assert ran.code == 3
    doc = ran.json()
    assert set(doc) == {"files", "total"}
    assert [set(f) for f in doc["files"]] == [SUMMARY_FILE_KEYS, SUMMARY_FILE_KEYS]
    assert set(doc["total"]) == SUMMARY_TOTAL_KEYS
    a, b = doc["files"]
    assert a["file"] == str((project / "a.jsonl").resolve())
    assert a["kind"] == "events"
    assert (a["rows"], a["accepted"], a["rejected_locally"], a["batches_sent"]) == (
        1500,
        1499,
        1,
        2,
    )
    assert a["batch_prefix"].startswith("events:")
    assert a["dataset"] is None
    assert doc["total"]["rows"] == 1510
    assert doc["total"]["accepted"] == 1509
    assert doc["total"]["ambiguous_batches"] == 0
    assert doc["total"]["unavailable"] is False
    assert b["dead_letter"] is None, "no reject, no file"

    dead = Path(a["dead_letter"])
    assert dead.parent == project / ".ctflow" / "rejected"
    assert dead.name.startswith("a.")
    assert dead.name.endswith(".sandbox.jsonl"), "one file per content and environment"
    (reject,) = dead_letters(dead)
    assert set(reject) == {"file", "line", "batch", "rejected_by", "code", "reason", "record"}
    assert (reject["line"], reject["batch"], reject["rejected_by"]) == (
        7,
        a["batch_prefix"] + ":0",
        "ctflow",
    )
    assert "milliseconds" in reject["reason"]

    text = ctflow(capsys, project, "upload", "events", "a.jsonl", "--restart")
    assert f"each with its line and reason in {dead}" in text.out
    assert len(dead_letters(dead)) == 1, "--restart starts the default dead-letter file afresh"


def test_bad_records_never_stop_the_rest_and_go_where_dead_letter_says(
    capsys: Capsys, project: Path, tmp_path: Path
) -> None:
    lines = [json.dumps(r) for r in events(1100)]
    lines[1] = "{not json"
    lines[4] = json.dumps({"evtName": "Product Viewed", "evtData": {"n": 5}})  # no identity
    lines[8] = "[1, 2]"
    lines[1049] = json.dumps(event(1050, name="App Launched"))
    (project / "events.jsonl").write_text("\n".join(lines) + "\n")
    chosen = tmp_path / "out" / "rejects.jsonl"

    ran = ctflow(capsys, project, "upload", "events", "events.jsonl", "--dead-letter", str(chosen))
    assert ran.code == 3
    assert "rejected: 4 by ctflow, 0 by CleverTap" in ran.out
    assert f"each with its line and reason in {chosen}" in ran.out
    assert stored(project) == {n: 1 for n in set(range(1, 1101)) - {2, 5, 9, 1050}}
    rejects = {r["line"]: r for r in dead_letters(chosen)}  # batches settle in any order
    assert sorted(rejects) == [2, 5, 9, 1050]
    assert rejects[2]["record"] == "{not json", "the line as it was"
    assert not (project / ".ctflow" / "rejected").exists()


def test_progress_goes_to_stderr_and_only_the_summary_to_stdout(
    capsys: Capsys, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(report.Progress.__init__.__kwdefaults__, "every", 0.0)
    write_jsonl(project / "events.jsonl", events(3000))

    ran = ctflow(capsys, project, "upload", "events", "events.jsonl")
    assert ran.code == 0
    progress = [line for line in ran.err.splitlines() if "rows read" in line]
    assert progress, ran.err
    assert progress[-1].startswith("ctflow: events.jsonl: 3,000 rows read, 3,000 sent")
    assert "\r" not in ran.err, "plain lines off a terminal"
    assert "\x1b" not in ran.err, "plain lines off a terminal"
    assert ran.out.splitlines()[0] == str((project / "events.jsonl").resolve())
    assert "rows read" not in ran.out
    assert "ctflow:" not in ran.out


def test_a_schema_problem_in_the_tracking_plan_stops_the_upload(
    capsys: Capsys, project: Path
) -> None:
    (project / "tracking.yaml").write_text(
        "kind: EventSchema\nevent: Product Viewed\nversion: 1\nproperties:\n  n: {type: integr}\n"
    )
    write_jsonl(project / "events.jsonl", events(10))
    ran = ctflow(capsys, project, "upload", "events", "events.jsonl")
    assert ran.code == 3
    assert "tracking.yaml:5:13: properties.n.type: 'integr' is not one of" in ran.err, ran.err
    assert ran.out == ""
    assert not (project / ".ctflow" / "sandbox.db").exists(), "nothing was sent"


def test_a_dataset_column_a_strict_event_does_not_declare_stops_the_upload(
    capsys: Capsys, example: Path
) -> None:
    csv = example / "data" / "loyalty.csv"
    header, *rows = csv.read_text().splitlines()
    csv.write_text("\n".join([header + ",channel", *(r + ",app" for r in rows)]) + "\n")
    ran = ctflow(capsys, example, "upload", "events", "data/loyalty.csv")
    assert ran.code == 3
    where = example / "datasets" / "loyalty-backfill.yaml"
    assert f"{where}:12:7: file: column 'channel' is not a property of strict event" in ran.err
    assert not (example / ".ctflow" / "sandbox.db").exists(), "nothing was sent"


def test_a_broken_campaign_is_a_warning_and_the_upload_goes_ahead(
    capsys: Capsys, project: Path
) -> None:
    (project / "campaigns").mkdir()
    (project / "campaigns" / "broken.yaml").write_text("kind: Campaign\nkey: broken\n")
    write_jsonl(project / "events.jsonl", events(10))
    ran = ctflow(capsys, project, "upload", "events", "events.jsonl")
    assert ran.code == 0, ran.err
    assert "problem(s) in campaigns, journeys or triggers (`ctflow validate` lists them)" in ran.err
    assert stored(project) == {n: 1 for n in range(1, 11)}


def test_a_csv_without_a_dataset_is_invalid_input(capsys: Capsys, project: Path) -> None:
    (project / "points.csv").write_text("customer_id,points\nC1,5\n")
    ran = ctflow(capsys, project, "upload", "events", "points.csv")
    assert ran.code == 3
    assert "points.csv: a CSV file needs a Dataset declaring it" in ran.err
    assert ran.out == ""


def test_an_upload_waits_for_no_one_while_another_run_holds_the_journal(
    capsys: Capsys, project: Path
) -> None:
    write_jsonl(project / "events.jsonl", events(10))
    with lock_held_elsewhere(project):
        ran = ctflow(capsys, project, "upload", "events", "events.jsonl")
    assert ran.code == 7
    assert "locked by another run: pid 4242 (ana@ci-7), `ctflow upload`" in ran.err
    assert stored(project) == {}
    assert ctflow(capsys, project, "upload", "events", "events.jsonl").code == 0


def test_resend_and_accept_together_is_a_usage_error(capsys: Capsys, project: Path) -> None:
    write_jsonl(project / "events.jsonl", events(10))
    ran = ctflow(
        capsys,
        project,
        "upload",
        "events",
        "events.jsonl",
        "--resend-ambiguous",
        "--accept-ambiguous",
    )
    assert ran.code == 64
    assert "contradict" in ran.err


# -- a sandbox served over loopback, with faults ---------------------------------------------


@pytest.fixture
def remote(tmp_path: Path, served: tuple[Sandbox, Calls, Served]) -> Path:
    return write_project(tmp_path / "shop", base_url=served[2].base_url)


def upload(capsys: Capsys, root: Path, *argv: str, **environ: str) -> Ran:
    return ctflow(capsys, root, "upload", *argv, "--env", "local", **{**CREDENTIALS, **environ})


@pytest.mark.loopback
def test_a_lost_answer_on_events_exits_6_and_accept_ambiguous_settles_it(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    sb, calls, _ = served
    write_jsonl(remote / "events.jsonl", events(3000))
    sb.faults.drop_next = 1

    ran = upload(capsys, remote, "events", "events.jsonl", "--concurrency", "1")
    assert ran.code == 6, ran.err
    prefix = next(iter(batch_states(remote, "local"))).rsplit(":", 1)[0]
    assert f"{prefix}:0: lines 1-1000, 1000 records" in ran.out
    assert "--resend-ambiguous` if they are missing" in ran.out
    assert "--env local" in ran.out, "suggested commands act on the same account"
    assert once(sb, range(1, 3001))
    assert len(calls.statuses) == 3

    again = upload(capsys, remote, "events", "events.jsonl")
    assert again.code == 6, "still unsettled"
    assert len(calls.statuses) == 3, "and still not sent again"

    settled = upload(capsys, remote, "events", "events.jsonl", "--accept-ambiguous")
    assert settled.code == 0, settled.err
    later = upload(capsys, remote, "events", "events.jsonl")
    assert later.code == 0
    assert "already uploaded: 3,000 rows, in batches an earlier run delivered" in later.out
    assert len(calls.statuses) == 3, "nothing was sent after the first run"
    assert once(sb, range(1, 3001))


@pytest.mark.loopback
def test_a_503_on_events_is_ambiguous_not_retried_so_nothing_arrives_twice(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    """CleverTap may answer 503 after storing the batch; it used to be sent again."""
    sb, calls, _ = served
    write_jsonl(remote / "events.jsonl", events(2000))
    sb.faults.fail_next, sb.faults.commit_5xx = [503], True

    ran = upload(capsys, remote, "events", "events.jsonl", "--concurrency", "1")
    assert ran.code == 6, ran.err
    prefix = next(iter(batch_states(remote, "local"))).rsplit(":", 1)[0]
    assert f"{prefix}:0: lines 1-1000, 1000 records" in ran.out
    assert "does not say whether the batch was processed" in ran.out
    assert calls.statuses == [503, 200]
    assert once(sb, range(1, 2001))
    assert batch_states(remote, "local") == {f"{prefix}:0": "ambiguous", f"{prefix}:1": "accepted"}


@pytest.mark.loopback
def test_resend_ambiguous_sends_the_unclear_batch_again(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    sb, _, _ = served
    write_jsonl(remote / "events.jsonl", events(2000))
    sb.faults.drop_next = 1
    assert upload(capsys, remote, "events", "events.jsonl", "--concurrency", "1").code == 6

    ran = upload(capsys, remote, "events", "events.jsonl", "--resend-ambiguous", "--format", "json")
    assert ran.code == 0, ran.err
    assert ran.json()["files"][0]["resent_ambiguous"] == 1
    copies = numbers(sb)
    assert {n for n, c in copies.items() if c == 2} == set(range(1, 1001))
    assert all(copies[n] == 1 for n in range(1001, 2001))


@pytest.mark.loopback
def test_a_lost_answer_on_profiles_is_sent_again_and_exits_0(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    sb, calls, _ = served
    write_jsonl(remote / "people.jsonl", [profile(f"p-{i}", City="Pune") for i in range(1500)])
    sb.faults.drop_next = 1
    ran = upload(capsys, remote, "profiles", "people.jsonl", "--concurrency", "1")
    assert ran.code == 0, ran.out + ran.err
    assert len(calls.statuses) == 3
    assert sb.store.counts()["profiles"] == 1500
    assert set(batch_states(remote, "local").values()) == {"accepted"}


@pytest.mark.loopback
def test_a_wrong_passcode_exits_4_and_marks_nothing_accepted(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    sb, _, _ = served
    write_jsonl(remote / "events.jsonl", events(3000))
    ran = upload(capsys, remote, "events", "events.jsonl", CLEVERTAP_PASSCODE="wrong-pass-77")
    assert ran.code == 4, ran.err
    assert "Passcode Invalid" in ran.err
    assert "wrong-pass-77" not in ran.out + ran.err
    assert sb.store.counts()["events"] == 0
    assert "accepted" not in batch_states(remote, "local").values()

    fixed = upload(capsys, remote, "events", "events.jsonl")
    assert fixed.code == 0, fixed.err
    assert once(sb, range(1, 3001))


@pytest.mark.loopback
def test_unavailable_exits_5_and_the_rerun_completes_without_duplicates(
    capsys: Capsys,
    remote: Path,
    served: tuple[Sandbox, Calls, Served],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctflow.upload import engine

    quick = {"give_up_after": 0.2, "backoff_initial": 0.01, "backoff_max": 0.05}
    real = engine.Options.__init__

    def impatient(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **{**kwargs, **quick})

    monkeypatch.setattr(engine.Options, "__init__", impatient)  # 300 s is the real patience
    sb, _, _ = served
    write_jsonl(remote / "events.jsonl", events(3000))
    sb.faults.rate_429 = 1.0

    ran = upload(capsys, remote, "events", "events.jsonl")
    assert ran.code == 5, ran.err
    assert "Run the same command again to continue from there" in ran.out
    assert sb.store.counts()["events"] == 0

    sb.faults.rate_429 = 0.0
    again = upload(capsys, remote, "events", "events.jsonl")
    assert again.code == 0, again.err
    assert once(sb, range(1, 3001))


@pytest.mark.loopback
def test_the_passcode_is_never_printed_nor_written(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    sb, _, _ = served
    secret = "pc-TOPSECRET-4242"
    sb.config.accounts = {"ACC-9": secret}
    records = events(2500)
    records[3] = event(4, name="App Launched")
    records[1200] = {**{k: v for k, v in event(1201).items() if k != "identity"}, "GPID": " x"}
    records[1201] = event(1202, name="Old Banner Clicked")
    sb.config.discarded_events = {"Old Banner Clicked"}
    write_jsonl(remote / "events.jsonl", records)
    sb.faults.drop_next = 1
    keys = {"CLEVERTAP_ACCOUNT_ID": "ACC-9", "CLEVERTAP_PASSCODE": secret}

    ran = upload(capsys, remote, "events", "events.jsonl", "--concurrency", "1", **keys)
    assert ran.code == 6, ran.err
    wrong = {**keys, "CLEVERTAP_PASSCODE": secret + "x"}
    bad = upload(capsys, remote, "events", "events.jsonl", "--restart", **wrong)
    assert bad.code == 4
    written = b"".join(p.read_bytes() for p in (remote / ".ctflow").rglob("*") if p.is_file())
    assert b"rejected_by" in written, "the dead-letter file is among them"
    assert JOURNAL_NAME in {p.name for p in (remote / ".ctflow").iterdir()}
    for text in (ran.out, ran.err, bad.out, bad.err):
        assert secret not in text
    assert secret.encode() not in written


@pytest.mark.loopback
def test_the_user_ids_of_clevertaps_own_token_sample_are_uploaded(
    capsys: Capsys, remote: Path, served: tuple[Sandbox, Calls, Served]
) -> None:
    """GUIDs start with "~", "__" or "-" (CleverTap's sample_token_payload_all.json)."""
    sb, _, _ = served
    guids = ["__gc4grg4053N1eYkW6OBH71jhFev7b1iP", "-HwB9gZWb3RcKhXCQ222FhAhkjeYQs0Hj"]
    guids += ["~9XrS4Dy6GsnDbdX98Ijs63kEtJDQbhJA"]
    kinds = ["fcm", "apns", "wns"]
    people = [{"objectId": g, "profileData": {"Plan": "gold"}} for g in guids]
    write_jsonl(remote / "profiles.jsonl", people)
    tokens = [
        {"objectId": g, "tokenData": {"id": f"tok-{n}", "type": kind}}
        for n, (g, kind) in enumerate(zip(guids, kinds, strict=True))
    ]
    write_jsonl(remote / "tokens.jsonl", tokens)

    for kind, name in (("profiles", "profiles.jsonl"), ("tokens", "tokens.jsonl")):
        ran = upload(capsys, remote, kind, name, "--format", "json")
        assert ran.code == 0, ran.err
        total = ran.json()["total"]
        assert (total["rows"], total["accepted"]) == (3, 3), ran.out
    stored = sb.store.find_profile("objectId", "~9XrS4Dy6GsnDbdX98Ijs63kEtJDQbhJA")
    assert stored is not None
    assert [p["push_token"] for p in stored.platform] == ["tok-2"]


@pytest.mark.loopback
def test_each_environment_has_its_own_dead_letter_file_and_restart_empties_only_its_own(
    capsys: Capsys, remote: Path
) -> None:
    write_jsonl(remote / "events.jsonl", [*events(3), {"no": "event"}])
    in_sandbox = ctflow(capsys, remote, "upload", "events", "events.jsonl")
    assert in_sandbox.code == 3
    assert upload(capsys, remote, "events", "events.jsonl").code == 3
    rejected = remote / ".ctflow" / "rejected"
    files = sorted(path.name.rsplit(".", 2)[1] for path in rejected.iterdir())
    assert files == ["local", "sandbox"]

    assert upload(capsys, remote, "events", "events.jsonl", "--restart").code == 3
    for path in rejected.iterdir():
        assert [r["line"] for r in dead_letters(path)] == [4], f"{path.name}: once, not emptied"


def test_a_dead_letter_file_that_cannot_be_written_stops_the_upload_before_it_sends(
    capsys: Capsys, project: Path
) -> None:
    (project / "afile").write_text("")
    write_jsonl(project / "events.jsonl", [*events(3), {"no": "event"}])
    chosen = project / "afile" / "rejects.jsonl"
    ran = ctflow(capsys, project, "upload", "events", "events.jsonl", "--dead-letter", str(chosen))
    assert ran.code == 1
    assert f"ctflow: cannot write the dead-letter file {chosen}: Not a directory" in ran.err
    assert "this is a bug" not in ran.err
    assert stored(project) == {}, "nothing sent"
