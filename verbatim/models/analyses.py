"""Analyses launched from the app or the API: a queued flow run and its progress, as the progress page shows it.

The app records an analysis (``queued``), a worker claims it (``running``), the flow reports each step and ends it
(``completed`` with its run id, or ``failed`` with the error in words). Several processes read and write these rows
(the app's workers, the flow's process): every change is one committed UPDATE, and a claim succeeds only once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update

from verbatim.errors import StoreError
from verbatim.models.store import Store
from verbatim.models.tables import AnalysisRow


class AnalysisStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class AnalysisKind(StrEnum):
    ANALYSE = "analyse"  # a survey export into a new run
    RECODE = "recode"  # a run's machine codes learnt again from the decisions
    CODE = "code"  # a new wave of answers into a validated codebook


@dataclass(frozen=True)
class Analysis:
    analysis_id: str
    kind: AnalysisKind
    name: str
    created_by: str
    created_at: datetime
    status: AnalysisStatus
    step: str
    progress: float
    config: dict[str, Any]
    upload_path: str | None
    upload_name: str | None
    run_id: str | None
    error: str | None
    flow_run_id: str | None
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        return self.status in (AnalysisStatus.COMPLETED, AnalysisStatus.FAILED)

    def elapsed_seconds(self, now: datetime | None = None) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or now or datetime.now(UTC)
        return max((_aware(end) - _aware(self.started_at)).total_seconds(), 0.0)


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every time here is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def new_analysis_id() -> str:
    return f"a-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class AnalysisLog:
    """The analyses of a store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self,
        kind: AnalysisKind,
        name: str,
        created_by: str,
        config: dict[str, Any],
        *,
        analysis_id: str | None = None,
        upload_path: str | None = None,
        upload_name: str | None = None,
    ) -> Analysis:
        row = AnalysisRow(
            analysis_id=analysis_id or new_analysis_id(),
            kind=str(kind),
            name=name,
            created_by=created_by,
            created_at=datetime.now(UTC),
            status=str(AnalysisStatus.QUEUED),
            step="en attente d'un worker",
            progress=0.0,
            config=config,
            upload_path=upload_path,
            upload_name=upload_name,
        )
        with self.store.session() as s:
            s.add(row)
        return self.get(row.analysis_id)

    def get(self, analysis_id: str) -> Analysis:
        with self.store.session() as s:
            row = s.get(AnalysisRow, analysis_id)
            if row is None:
                raise StoreError(f"analysis '{analysis_id}' not found")
            return _record(row)

    def find(self, analysis_id: str) -> Analysis | None:
        try:
            return self.get(analysis_id)
        except StoreError:
            return None

    def all(self, limit: int = 200) -> list[Analysis]:
        with self.store.session() as s:
            rows = s.scalars(select(AnalysisRow).order_by(AnalysisRow.created_at.desc()).limit(limit))
            return [_record(r) for r in rows]

    def queued(self) -> list[Analysis]:
        with self.store.session() as s:
            stmt = select(AnalysisRow).where(AnalysisRow.status == str(AnalysisStatus.QUEUED))
            return [_record(r) for r in s.scalars(stmt.order_by(AnalysisRow.created_at))]

    def claim(self, analysis_id: str, flow_run_id: str | None = None) -> bool:
        """Mark a queued analysis running; False when another worker claimed it first (or it is not queued)."""
        return self._update(
            analysis_id,
            {"status": str(AnalysisStatus.RUNNING), "started_at": datetime.now(UTC), "step": "démarrage",
             **({"flow_run_id": flow_run_id} if flow_run_id else {})},
            only_if=AnalysisStatus.QUEUED,
        )  # fmt: skip

    def report(self, analysis_id: str, step: str, progress: float) -> None:
        """The step the flow is at, and the share of the work done (0 to 1)."""
        values: dict[str, Any] = {"step": step[:500], "progress": min(max(progress, 0.0), 1.0)}
        if self._update(analysis_id, values, only_if=AnalysisStatus.RUNNING):
            return
        # A flow started by a Prefect worker (not claimed by ours) reports from its first step on.
        self._update(analysis_id, {**values, "status": str(AnalysisStatus.RUNNING), "started_at": datetime.now(UTC)},
                     only_if=AnalysisStatus.QUEUED)  # fmt: skip

    def complete(self, analysis_id: str, run_id: str) -> None:
        """The run is written (and the upload, if any, deleted by the flow)."""
        self._update(
            analysis_id,
            {"status": str(AnalysisStatus.COMPLETED), "run_id": run_id, "progress": 1.0, "step": "terminé",
             "finished_at": datetime.now(UTC), "error": None, "upload_path": None},
        )  # fmt: skip

    def fail(self, analysis_id: str, error: str) -> None:
        self._update(
            analysis_id,
            {"status": str(AnalysisStatus.FAILED), "error": error[:4000], "finished_at": datetime.now(UTC)},
        )

    def set_flow_run(self, analysis_id: str, flow_run_id: str) -> None:
        """The analysis was sent to a Prefect deployment: its flow run (our own workers leave it alone)."""
        self._update(analysis_id, {"flow_run_id": flow_run_id})

    def forget_upload(self, analysis_id: str) -> None:
        """The raw upload is gone (deleted after the run, or removed by the user)."""
        self._update(analysis_id, {"upload_path": None})

    def requeue(self, analysis_id: str) -> bool:
        """A failed analysis whose upload is still there, queued again (the same configuration)."""
        return self._update(
            analysis_id,
            {"status": str(AnalysisStatus.QUEUED), "error": None, "progress": 0.0, "step": "en attente d'un worker",
             "started_at": None, "finished_at": None},
            only_if=AnalysisStatus.FAILED,
        )  # fmt: skip

    def _update(self, analysis_id: str, values: dict[str, Any], only_if: AnalysisStatus | None = None) -> bool:
        stmt = update(AnalysisRow).where(AnalysisRow.analysis_id == analysis_id)
        if only_if is not None:
            stmt = stmt.where(AnalysisRow.status == str(only_if))
        with self.store.session() as s:
            return bool(s.execute(stmt.values(**values)).rowcount)  # type: ignore[attr-defined]


def _record(row: AnalysisRow) -> Analysis:
    return Analysis(
        analysis_id=row.analysis_id,
        kind=AnalysisKind(row.kind),
        name=row.name,
        created_by=row.created_by,
        created_at=row.created_at,
        status=AnalysisStatus(row.status),
        step=row.step,
        progress=row.progress,
        config=dict(row.config or {}),
        upload_path=row.upload_path,
        upload_name=row.upload_name,
        run_id=row.run_id,
        error=row.error,
        flow_run_id=row.flow_run_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
