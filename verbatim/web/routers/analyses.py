"""New analyses from the browser: upload a survey export, choose its columns, launch, watch the progress."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from verbatim.errors import VerbatimError
from verbatim.models.analyses import AnalysisLog
from verbatim.web import analyses
from verbatim.web.once import Once
from verbatim.web.pages import Form, data_of, field, flash, redirect, render, text
from verbatim.web.security import Reader, Writer

router = APIRouter()


@router.get("/analyses", response_class=HTMLResponse)
def analyses_page(request: Request, me: Reader) -> Response:
    return render(request, "analyses.html", me=me, analyses=AnalysisLog(data_of(request).store).all())


@router.get("/analyses/new", response_class=HTMLResponse)
def upload_page(request: Request, me: Reader, codebook: str | None = None) -> Response:
    """The upload form; with ``codebook``, for a new wave coded into that run's codebook."""
    if codebook:
        data_of(request).run(codebook)
    return render(request, "analysis_upload.html", me=me, codebook=codebook or "")


@router.post("/analyses/upload")
def upload(request: Request, me: Writer, form: Form) -> Response:
    """Keep the file as a draft and read it at once: a file that cannot be read is refused on the form."""
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return render(request, "analysis_upload.html", 400, me=me, error="Choisissez un fichier d'export.")
    codebook = text(form, "codebook", "livre de codes", required=False)
    if codebook:
        data_of(request).run(codebook)
    draft = analyses.save_upload(file.file, file.filename, me)
    sheet = text(form, "sheet", "feuille", required=False) or None
    try:
        analyses.preview(draft, sheet)
    except VerbatimError as exc:
        analyses.remove_draft(draft)
        return render(request, "analysis_upload.html", 400, me=me, error=str(exc), sheet=sheet or "", codebook=codebook)
    query = urlencode({k: v for k, v in (("sheet", sheet), ("codebook", codebook)) if v})
    return redirect(f"/analyses/drafts/{draft.draft_id}" + (f"?{query}" if query else ""))


@router.get("/analyses/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(
    request: Request, me: Reader, draft_id: str, sheet: str | None = None, codebook: str | None = None
) -> Response:
    data = data_of(request)
    preview = analyses.preview(analyses.draft(draft_id, me), sheet or None)
    chosen: dict[str, Any] = {
        "id_column": preview.suggestion.id_column or "",
        "questions": preview.suggestion.questions,
        "attributes": preview.suggestion.attributes,
        "name": preview.draft.upload_name,
        "seed": "42",
        "never_mask": "",
        "mask_name": "",
    }
    if codebook:  # a new wave: the columns of the codebook's run, where the new file has them
        known = analyses.codebook_columns(data, codebook, preview.table.columns)
        chosen.update({k: v for k, v in known.items() if v})
    return render(
        request, "analysis_draft.html", me=me, p=preview, chosen=chosen, sheet=sheet or "", codebook=codebook or ""
    )


@router.post("/analyses/drafts/{draft_id}/launch")
def launch(request: Request, me: Once, form: Form, draft_id: str) -> Response:
    """The same checks as ``verbatim analyse``; on any problem the form comes back with what was chosen."""
    draft = analyses.draft(draft_id, me)
    chosen = _chosen(form)
    sheet = field(form, "sheet") or None
    codebook = field(form, "codebook") or None
    try:
        request_ = analyses.AnalysisRequest(
            id_column=chosen["id_column"],
            questions=chosen["questions"],
            attributes=[a for a in chosen["attributes"] if a not in chosen["questions"] and a != chosen["id_column"]],
            name=chosen["name"],
            seed=int(chosen["seed"]) if chosen["seed"].strip().isdigit() else -1,
            sheet=sheet,
            never_mask=_lines(chosen["never_mask"]),
            mask_name=_lines(chosen["mask_name"]),
        )
        analysis = analyses.launch(data_of(request), me, draft, request_, codebook)
    except (VerbatimError, ValidationError) as exc:
        preview = analyses.preview(draft, sheet)
        return render(
            request, "analysis_draft.html", 400, me=me, p=preview, chosen=chosen, sheet=sheet or "",
            codebook=codebook or "", error=_in_words(exc),
        )  # fmt: skip
    flash(request, f"Analyse « {analysis.name} » lancée.")
    return redirect(f"/analyses/{analysis.analysis_id}")


@router.post("/analyses/drafts/{draft_id}/remove")
def remove_draft(request: Request, me: Once, form: Form, draft_id: str) -> Response:
    analyses.remove_draft(analyses.draft(draft_id, me))
    flash(request, "Fichier supprimé du serveur.")
    return redirect("/analyses/new")


@router.post("/runs/{run_id}/recode")
def recode(request: Request, me: Once, form: Form, run_id: str) -> Response:
    """Learn from the team's decisions and recode the unreviewed rest (a flow run, with its progress page)."""
    analysis = analyses.launch_recode(data_of(request), me, run_id)
    flash(request, "Recodage lancé : les décisions de l'équipe restent telles quelles.")
    return redirect(f"/analyses/{analysis.analysis_id}")


@router.get("/analyses/{analysis_id}", response_class=HTMLResponse)
def progress_page(request: Request, me: Reader, analysis_id: str) -> Response:
    data = data_of(request)
    analysis = analyses.analysis(data, analysis_id)
    counts = data.store.run(analysis.run_id).manifest.get("counts", {}) if analysis.run_id else {}
    return render(request, "analysis.html", me=me, a=analysis, counts=counts)


@router.post("/analyses/{analysis_id}/retry")
def retry(request: Request, me: Once, form: Form, analysis_id: str) -> Response:
    data = data_of(request)
    analyses.retry(data, me, analyses.analysis(data, analysis_id))
    flash(request, "Analyse relancée.")
    return redirect(f"/analyses/{quote(analysis_id)}")


@router.post("/analyses/{analysis_id}/remove-upload")
def remove_upload(request: Request, me: Once, form: Form, analysis_id: str) -> Response:
    data = data_of(request)
    analyses.remove_upload(data, me, analyses.analysis(data, analysis_id))
    flash(request, "Fichier déposé supprimé du serveur.")
    return redirect(f"/analyses/{quote(analysis_id)}")


def _chosen(form: FormData) -> dict[str, Any]:
    """The form's choices as typed (to launch, or to show again with an error)."""

    def one(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    return {
        "id_column": one("id_column"),
        "questions": [q for q in form.getlist("questions") if isinstance(q, str)],
        "attributes": [a for a in form.getlist("attributes") if isinstance(a, str)],
        "name": one("name"),
        "seed": one("seed") or "42",
        "never_mask": one("never_mask"),
        "mask_name": one("mask_name"),
    }


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


_FIELDS = {"id_column": "colonne identifiant", "questions": "questions ouvertes", "seed": "graine", "name": "nom"}


def _in_words(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else ""
            if field == "questions" and e["type"] == "too_short":
                parts.append("choisissez au moins une question ouverte")
            elif field == "id_column" and e["type"] == "string_too_short":
                parts.append("choisissez la colonne des identifiants")
            elif field == "seed":
                parts.append("la graine est un nombre entier positif")
            else:
                parts.append(f"{_FIELDS.get(field, field)} : {e['msg']}")
        return "Vérifiez le formulaire : " + " ; ".join(parts) + "."
    return str(exc)
