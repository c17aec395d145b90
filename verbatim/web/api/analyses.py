"""Analyses over the API: upload a survey export with its configuration, follow the analysis. The same functions
as the app's upload form (``verbatim.web.analyses``): the same checks, the same words when something is wrong."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import ValidationError

from verbatim.errors import VerbatimError
from verbatim.models.analyses import Analysis, AnalysisLog
from verbatim.web import analyses
from verbatim.web.api.schemas import AnalysisCreated, AnalysisOut, Problem
from verbatim.web.api.security import ApiUser, ApiWriter, api_user
from verbatim.web.data import BadInput
from verbatim.web.pages import data_of

router = APIRouter(dependencies=[Depends(api_user)], responses={401: {"model": Problem}})
REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "a read-only account"},
    413: {"model": Problem, "description": "the file is larger than the server's limit"},
    422: {"model": Problem, "description": "a file or configuration that cannot be analysed: what to fix"},
}


@router.post("/analyses", status_code=202, summary="Lancer l'analyse d'un export d'enquête", responses=REFUSED)
def create_analysis(
    request: Request,
    me: ApiWriter,
    file: Annotated[UploadFile, File(description="the survey export: CSV, TSV or XLSX")],
    config: Annotated[
        str,
        Form(
            description='JSON: {"id_column": ..., "questions": [...], "attributes": [...], "seed": 42, '
            '"name": ..., "sheet": ..., "never_mask": [...], "mask_name": [...]}'
        ),
    ],
) -> AnalysisCreated:
    """Checks the file and the configuration as ``verbatim analyse`` does, then queues the analysis; nothing is
    launched when a check fails (422, with what to fix)."""
    try:
        chosen = analyses.AnalysisRequest.model_validate_json(config)
    except ValidationError as exc:
        raise BadInput(f"config : {_in_words(exc)}") from None
    draft = analyses.save_upload(file.file, file.filename or "", me)
    try:
        analyses.preview(draft, chosen.sheet)
        analysis = analyses.launch(data_of(request), me, draft, chosen)
    except (VerbatimError, ValidationError) as exc:
        analyses.remove_draft(draft)
        raise BadInput(str(exc) if isinstance(exc, VerbatimError) else _in_words(exc)) from None
    return AnalysisCreated(analysis_id=analysis.analysis_id, status=str(analysis.status))


@router.get("/analyses", summary="Les analyses lancées, la plus récente d'abord")
def list_analyses(request: Request, _me: ApiUser) -> list[AnalysisOut]:
    return [_out(a) for a in AnalysisLog(data_of(request).store).all()]


@router.get(
    "/analyses/{analysis_id}",
    summary="Où en est une analyse : état, étape, avancement, analyse écrite",
    responses={404: {"model": Problem}},
)
def read_analysis(request: Request, _me: ApiUser, analysis_id: str) -> AnalysisOut:
    return _out(analyses.analysis(data_of(request), analysis_id))


def _out(a: Analysis) -> AnalysisOut:
    return AnalysisOut(
        analysis_id=a.analysis_id, kind=str(a.kind), name=a.name, created_by=a.created_by, created_at=a.created_at,
        status=str(a.status), step=a.step, progress=a.progress, run_id=a.run_id, error=a.error,  # type: ignore[arg-type]
    )  # fmt: skip


def _in_words(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
