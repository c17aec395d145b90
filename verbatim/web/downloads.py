"""Downloads of a run's exports, for the browser (``/runs/{run_id}/downloads/{format}``) and the API
(``/api/v1/runs/{run_id}/exports/{format}``): one function writes the export into a temporary folder under
``VERBATIM_DATA_DIR`` with :func:`verbatim.formats.exports.export`, and the response sends the file then removes the
folder. Every download reads the run as it stands, after the review, exactly as ``verbatim export`` does. A
``.qdpx`` holds one text source per answer, or with ``sources=question`` one per question (``--qdpx-sources``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from verbatim.formats.exports import ExportFormat, QdpxSources, export, load_run, zip_folder
from verbatim.paths import data_dir
from verbatim.web.data import BadInput, NotFound, ReviewData

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"


@dataclass(frozen=True)
class Variant:
    """One file a format can be downloaded as: the name inside the temporary folder (whose suffix tells the
    export what to write), the name the user gets (after the run id) and its media type."""

    file: str
    download: str
    media_type: str
    excel_fr: bool = False


#: The formats and, for each, its variants (``?as=``); the first is the default.
VARIANTS: dict[str, dict[str, Variant]] = {
    "csv": {
        "csv": Variant("coded_excerpts.csv", "extraits-codes.csv", "text/csv; charset=utf-8"),
        "excel-fr": Variant("coded_excerpts.csv", "extraits-codes-excel.csv", "text/csv; charset=utf-8", True),
    },
    "xlsx": {"xlsx": Variant("coded_excerpts.xlsx", "extraits-codes.xlsx", XLSX)},
    "codebook": {
        "xlsx": Variant("codebook.xlsx", "codebook.xlsx", XLSX),
        "qdc": Variant("codebook.qdc", "codebook.qdc", "application/xml"),
        "csv": Variant("codebook.csv", "codebook.csv", "text/csv; charset=utf-8"),
    },
    "qdpx": {"qdpx": Variant("project.qdpx", "projet.qdpx", ZIP)},
    "report": {"zip": Variant("report", "rapport.zip", ZIP)},
    "respondents": {
        "csv": Variant("respondents.csv", "repondants.csv", "text/csv; charset=utf-8"),
        "excel-fr": Variant("respondents.csv", "repondants-excel.csv", "text/csv; charset=utf-8", True),
        "xlsx": Variant("respondents.xlsx", "repondants.xlsx", XLSX),
        "sav": Variant("respondents.sav", "repondants.sav", "application/octet-stream"),
    },
    "specificities": {
        "csv": Variant("specificities.csv", "specificites.csv", "text/csv; charset=utf-8"),
        "excel-fr": Variant("specificities.csv", "specificites-excel.csv", "text/csv; charset=utf-8", True),
        "xlsx": Variant("specificities.xlsx", "specificites.xlsx", XLSX),
    },
}


@dataclass(frozen=True)
class Download:
    """A file ready to send, in ``folder`` (temporary: remove it once sent)."""

    path: Path
    filename: str
    media_type: str
    folder: Path


def variant_of(fmt: str, as_: str | None = None) -> Variant:
    """The file ``fmt`` is downloaded as (``as_``: one of its variants; default: the first); ``NotFound`` or
    ``BadInput`` in words otherwise."""
    variants = VARIANTS.get(fmt)
    if variants is None:
        raise NotFound(f"Format d'export inconnu : « {fmt[:40]} » (formats : {', '.join(VARIANTS)}).")
    if as_ is None or as_ == "":
        return next(iter(variants.values()))
    if as_ not in variants:
        raise BadInput(f"Le format « {fmt} » se télécharge en : {', '.join(variants)} ; pas en « {as_[:40]} ».")
    return variants[as_]


def qdpx_sources_of(fmt: str, sources: str | None) -> QdpxSources:
    """The ``sources`` of a download (``qdpx`` only): ``BadInput`` in words otherwise."""
    if sources is None or sources == "":
        return QdpxSources.RESPONDENT
    if fmt != ExportFormat.QDPX:
        raise BadInput(f"« sources » ne s'applique qu'au format qdpx, pas à « {fmt[:40]} ».")
    try:
        return QdpxSources(sources)
    except ValueError:
        raise BadInput(
            f"Les sources d'un projet qdpx sont : {', '.join(QdpxSources)} ; pas « {sources[:40]} »."
        ) from None


def downloads_dir() -> Path:
    return data_dir() / "tmp" / "downloads"


def export_file(
    data: ReviewData,
    run_id: str,
    fmt: str,
    as_: str | None = None,
    validated_only: bool = False,
    sources: str | None = None,
) -> Download:
    """Write run ``run_id`` in format ``fmt`` (variant ``as_``; a ``.qdpx``'s ``sources``: respondent or question)
    into a new temporary folder under the data folder; the report is sent as a ZIP of ``report.md``,
    ``report.docx`` and its charts. ``NotFound`` for an unknown run or format, ``BadInput`` for an unknown variant
    or sources."""
    data.run(run_id)
    variant = variant_of(fmt, as_)
    qdpx_sources = qdpx_sources_of(fmt, sources)
    export_format = ExportFormat(fmt)
    run = load_run(data.store, run_id)
    downloads_dir().mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="export-", dir=downloads_dir()))
    try:
        out = folder / variant.file
        export(
            run, export_format, out, validated_only=validated_only, excel_fr=variant.excel_fr,
            qdpx_sources=qdpx_sources,
        )  # fmt: skip
        if export_format == ExportFormat.REPORT:
            out = zip_folder(out, folder / "report.zip")
        download = variant.download
        if qdpx_sources == QdpxSources.QUESTION:
            download = download.replace(".qdpx", "-par-question.qdpx")
        return Download(out, f"{_safe(run_id)}-{download}", variant.media_type, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _safe(name: str) -> str:
    """A run id as part of a file name: letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "run"


def send(download: Download) -> FileResponse:
    """The file as an attachment; its temporary folder is removed once the response is sent."""
    return FileResponse(
        download.path,
        media_type=download.media_type,
        filename=download.filename,
        background=BackgroundTask(shutil.rmtree, download.folder, ignore_errors=True),
    )
