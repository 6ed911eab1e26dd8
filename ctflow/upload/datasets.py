"""The declared Datasets of a project as the plan sees them: each file's content id, its rows
and batches, and what the journal knows of its uploads to one environment."""

from __future__ import annotations

import math
import os
from pathlib import Path

from ctflow.journal import UploadRecords
from ctflow.plan.datasets import DatasetFacts
from ctflow.spec.model import Declarations
from ctflow.upload.job import FileJob, batch_size, dataset_job
from ctflow.upload.ledger import DONE
from ctflow.upload.sources import count_rows


def dataset_jobs(decls: Declarations) -> dict[str, FileJob]:
    return {key: dataset_job(decl) for key, decl in sorted(decls.datasets.items())}


def dataset_facts(
    jobs: dict[str, FileJob], root: Path, journal: UploadRecords | None, environment: str
) -> list[DatasetFacts]:
    uploads = journal.uploads(environment) if journal is not None else []
    facts = []
    for key, job in jobs.items():
        count = count_rows(job.path, job.format)
        states = journal.batch_states(environment, job.prefix + ":") if journal else {}
        complete = any(u["upload_key"] == job.prefix and u["state"] == "complete" for u in uploads)
        earlier = next(
            (
                u["updated_at"]
                for u in uploads
                if u["dataset"] == key
                and u["kind"] == job.kind
                and u["upload_key"] != job.prefix
                and journal is not None
                and journal.sent_records(environment, u["upload_key"] + ":") > 0
            ),
            None,
        )
        facts.append(
            DatasetFacts(
                key=key,
                file=os.path.relpath(job.path, root),
                kind=job.kind,
                content=job.prefix,
                rows=count,
                batches=math.ceil(count / batch_size(job.kind)),
                accepted_batches=sum(1 for state in states.values() if state in DONE),
                complete=complete,
                earlier=earlier,
            )
        )
    return facts
