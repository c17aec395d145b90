"""Analyses from the browser and the API: an upload kept as a draft (read at once, its columns profiled), then
launched with the columns the user chose, through the same checks as ``verbatim analyse``.

Uploads are untrusted: their names are shown, never used as paths (a draft is ``uploads/<random id>/survey.<ext>``
with a whitelisted extension); the size is bounded while streaming (``verbatim.web.limits``); workbooks are read
without evaluating anything and refused when they would inflate too far (``verbatim.formats.survey``). The raw file
holds personal data: the flow deletes it once the run is written; a failed analysis keeps it until the user removes
it (or tries again).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from verbatim.errors import VerbatimError
from verbatim.flows.config import AnalyseConfig, PseudonymisationConfig, check_survey
from verbatim.flows.launch import submit
from verbatim.formats.columns import ColumnProfile, Suggestion, profile_columns, suggest_columns
from verbatim.formats.survey import SUPPORTED_SUFFIXES, SurveyTable, read_survey
from verbatim.models.analyses import Analysis, AnalysisKind, AnalysisLog
from verbatim.models.decisions import Role, User
from verbatim.paths import cache_dir, runs_dir, uploads_dir
from verbatim.web.data import BadInput, NotFound, ReviewData

_DRAFT_ID = re.compile(r"^[0-9a-f]{16}$")
PREVIEW_ROWS = 5
#: A draft never launched nor removed is deleted after this long (it holds personal data).
DRAFT_HOURS = 24


class AnalysisRequest(BaseModel):
    """What the user chooses for an analysis (the form's fields; the API's ``config`` JSON)."""

    model_config = ConfigDict(extra="forbid")

    id_column: str = Field(min_length=1, description="column with the respondent id")
    questions: list[str] = Field(min_length=1, description="open-question columns to analyse")
    attributes: list[str] = Field(default_factory=list, description="respondent attribute columns")
    name: str = Field(default="", max_length=200, description="the analysis's name (default: the file's name)")
    seed: int = Field(default=42, ge=0, description="seed of every random step")
    sheet: str | None = Field(default=None, description="XLSX sheet (default: the first)")
    never_mask: list[str] = Field(default_factory=list, description="terms never to pseudonymise")
    mask_name: list[str] = Field(default_factory=list, description="extra names to pseudonymise")


@dataclass(frozen=True)
class Draft:
    draft_id: str
    path: Path
    upload_name: str
    uploaded_by: str
    size: int


@dataclass(frozen=True)
class Preview:
    """A draft as read: its table, the first rows, each column's profile and the pre-selected columns."""

    draft: Draft
    table: SurveyTable
    rows: list[list[str]]
    profiles: list[ColumnProfile]
    suggestion: Suggestion


def save_upload(stream: BinaryIO, filename: str, me: User) -> Draft:
    """Copy an uploaded file into a new draft; refuses an extension the reader does not know."""
    if not me.can_decide:
        raise BadInput("Votre compte est en lecture seule : il ne peut pas lancer d'analyse.")
    name = Path(filename or "").name[:200] or "fichier"
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise BadInput(
            f"« {name} » n'est pas un export lisible : extensions acceptées {', '.join(SUPPORTED_SUFFIXES)} "
            "(enregistrez un .xls ou un .ods en .xlsx ou en CSV UTF-8)."
        )
    purge_stale_drafts()
    draft_id = secrets.token_hex(8)
    folder = uploads_dir() / draft_id
    folder.mkdir(parents=True, exist_ok=False)
    path = folder / f"survey{suffix}"
    with open(path, "wb") as out:
        shutil.copyfileobj(stream, out, length=2**20)
    meta = {"upload_name": name, "uploaded_by": me.name, "created_at": datetime.now(UTC).isoformat()}
    (folder / "draft.json").write_text(json.dumps(meta), encoding="utf-8")
    return Draft(draft_id, path, name, me.name, path.stat().st_size)


def purge_stale_drafts(max_age: timedelta = timedelta(hours=DRAFT_HOURS)) -> int:
    """Delete the drafts older than ``max_age`` (uploaded, never launched nor removed); returns how many."""
    now, purged = datetime.now(UTC), 0
    for meta_file in uploads_dir().glob("*/draft.json"):
        try:
            created = datetime.fromisoformat(json.loads(meta_file.read_text(encoding="utf-8"))["created_at"])
        except (OSError, ValueError, KeyError):
            continue
        if now - created > max_age:
            shutil.rmtree(meta_file.parent, ignore_errors=True)
            purged += 1
    return purged


def draft(draft_id: str, me: User) -> Draft:
    """A draft of ``me`` (or any, for an admin); unknown or someone else's: not found."""
    folder = uploads_dir() / draft_id if _DRAFT_ID.match(draft_id) else None
    meta_file = folder / "draft.json" if folder else None
    if folder is None or meta_file is None or not meta_file.is_file():
        raise NotFound("Ce fichier déposé n'existe plus : déposez-le à nouveau.")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta["uploaded_by"] != me.name and me.role != Role.ADMIN:
        raise NotFound("Ce fichier déposé n'existe plus : déposez-le à nouveau.")
    path = next(p for p in folder.iterdir() if p.name.startswith("survey"))
    return Draft(draft_id, path, meta["upload_name"], meta["uploaded_by"], path.stat().st_size)


@contextmanager
def in_users_words(d: Draft) -> Iterator[None]:
    """The reader's and the checks' own messages, naming the file as the user named it, not where it lies."""
    try:
        yield
    except VerbatimError as exc:
        message = str(exc)
        for where in (str(d.path.resolve()), str(d.path)):
            message = message.replace(where, d.upload_name)
        raise type(exc)(message) from None


def preview(d: Draft, sheet: str | None = None) -> Preview:
    """Read the draft at once (the reader's own messages on failure) and profile its columns."""
    with in_users_words(d):
        table = read_survey(d.path, sheet=sheet)
    profiles = profile_columns(table)
    rows = table.frame.head(PREVIEW_ROWS).astype(str).values.tolist()
    return Preview(d, table, rows, profiles, suggest_columns(profiles))


def remove_draft(d: Draft) -> None:
    shutil.rmtree(d.path.parent, ignore_errors=True)


def launch(
    data: ReviewData, me: User, d: Draft, request: AnalysisRequest, codebook_run_id: str | None = None
) -> Analysis:
    """Check the chosen columns exactly as the command line does, then record the analysis and start it: a new
    analysis, or with ``codebook_run_id`` a new wave coded into that run's codebook as it stands (``verbatim code``).
    Nothing is launched when a check fails (``VerbatimError`` / pydantic's ``ValidationError`` say what to fix)."""
    if not me.can_decide:
        raise BadInput("Votre compte est en lecture seule : il ne peut pas lancer d'analyse.")
    values: dict[str, object] = {
        "survey_file": d.path,
        "id_column": request.id_column,
        "questions": request.questions,
        "attributes": request.attributes,
        "sheet": request.sheet,
        "seed": request.seed,
        "out_dir": runs_dir().resolve(),
        "cache_dir": cache_dir().resolve(),
        "pseudonymisation": PseudonymisationConfig(never_mask=request.never_mask, extra_names=request.mask_name),
        "remove_survey_file": True,
    }
    config: AnalyseConfig
    if codebook_run_id is None:
        config, kind = AnalyseConfig.model_validate(values), AnalysisKind.ANALYSE
    else:
        from verbatim.flows.learning import CodeConfig  # the learning flow's modules, only when asked for

        data.run(codebook_run_id)  # an unknown run is not found, before anything is recorded
        config = CodeConfig.model_validate({**values, "codebook_run_id": codebook_run_id})
        kind = AnalysisKind.CODE
    with in_users_words(d):
        check_survey(config)
    parameters = config.model_dump(mode="json", exclude={"database_url", "analysis_id"})
    parameters["survey_file"] = str(d.path.resolve())
    analysis = AnalysisLog(data.store).create(
        kind,
        request.name.strip() or d.upload_name,
        me.name,
        parameters,
        upload_path=str(d.path.resolve()),
        upload_name=d.upload_name,
    )
    (d.path.parent / "draft.json").unlink(missing_ok=True)  # the draft is now the analysis's upload
    submit(analysis, data.store.url)
    return analysis


def launch_recode(data: ReviewData, me: User, run_id: str) -> Analysis:
    """Learn again from the team's decisions on ``run_id`` and recode the unreviewed rest (``verbatim recode``)."""
    if not me.can_decide:
        raise BadInput("Votre compte est en lecture seule : il ne peut pas lancer de recodage.")
    data.run(run_id)
    analysis = AnalysisLog(data.store).create(AnalysisKind.RECODE, f"Recodage de {run_id}", me.name, {"run_id": run_id})
    submit(analysis, data.store.url)
    return analysis


def codebook_columns(data: ReviewData, run_id: str, columns: list[str]) -> dict[str, object]:
    """The id, questions and attributes of the codebook run that the new file also has (the form's defaults)."""
    parameters = data.store.run(run_id).manifest.get("parameters", {})
    return {
        "id_column": parameters.get("id_column") if parameters.get("id_column") in columns else None,
        "questions": [q for q in parameters.get("questions", []) if q in columns],
        "attributes": [a for a in parameters.get("attributes", []) if a in columns],
    }


def analysis(data: ReviewData, analysis_id: str) -> Analysis:
    found = AnalysisLog(data.store).find(analysis_id)
    if found is None:
        raise NotFound(f"L'analyse « {analysis_id} » n'existe pas.")
    return found


def remove_upload(data: ReviewData, me: User, a: Analysis) -> None:
    """The user removes the raw upload of a failed analysis (personal data)."""
    if not me.can_decide:
        raise BadInput("Votre compte est en lecture seule.")
    if a.upload_path:
        shutil.rmtree(Path(a.upload_path).parent, ignore_errors=True)
    AnalysisLog(data.store).forget_upload(a.analysis_id)


def retry(data: ReviewData, me: User, a: Analysis) -> Analysis:
    """A failed analysis whose upload is still there, launched again with the same choices."""
    if not me.can_decide:
        raise BadInput("Votre compte est en lecture seule.")
    if a.upload_path is None or not Path(a.upload_path).is_file():
        raise BadInput("Le fichier de cette analyse a été supprimé : déposez-le à nouveau.")
    log = AnalysisLog(data.store)
    if not log.requeue(a.analysis_id):
        raise BadInput("Seule une analyse en échec peut être relancée.")
    again = log.get(a.analysis_id)
    submit(again, data.store.url)
    return again
