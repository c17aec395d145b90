"""The codebook as it stands: themes per question, as CSV, XLSX and a REFI-QDA codebook (``.qdc``).

One row per theme ever created in the question (merged-away ones included, so the lineage reads in full):
``question, theme_id, label`` (current, after renames), ``family_id, family`` (the theme's family now, after
renames and moves: see ``verbatim.models.review``), ``description, keywords`` (the key lemmas, ``; ``-separated),
``status`` (``active``, ``merged`` or ``deleted``), ``created_by`` (``machine`` or the researcher),
``parent_theme_id`` (the theme it was split from), ``n_excerpts, n_respondents, n_validated`` (now, after decisions:
excerpts and distinct respondents coded to the theme, and how many of those excerpts were accepted or recoded by a
researcher), ``machine_n_excerpts``
(the machine's count when it proposed the theme), ``machine_label`` and ``lineage`` (``split from 3 « … »; absorbed
5 « … »; merged into 2 « … »``), then what QDA tools import from a CSV codebook: ``path`` (the code's place in
the codebook, ``question/family/theme``: a ``/`` inside a part is written ``-``, the question cut at 100
characters), which with ``description`` is what Taguette's "Import codebook" reads (Taguette takes one of ``tag``,
``name`` or ``path`` and refuses a file with two: the theme's own name stays in ``label``).

The ``.qdc`` (namespace ``urn:QDA-XML:codebook:1.0``) nests question -> family -> theme: one non-codable code per
question, under it one non-codable code per family holding an active theme (its key lemmas as description), and
under each family one codable code per active theme with its colour and a description (description, key lemmas,
lineage). GUIDs are UUID 5 of the run id and the object, so two exports of the same run carry the same GUIDs.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl import Workbook

from verbatim.formats.exports.cells import fill_sheet, write_atomically, write_csv, xml_text
from verbatim.formats.exports.data import QuestionView, RunView, ThemeView
from verbatim.models.review import FamilyState, lineage

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
CODEBOOK_SHEET = "Codebook"
GUID_NAMESPACE = uuid.UUID("5b0c4a52-3f7e-5d1a-9a43-7b1e2f0d9c11")  # Verbatim's namespace for REFI-QDA GUIDs

#: Colours of the codes: Tableau 20 (distinct, readable on white), one per theme in order, then round again.
PALETTE = (
    "#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF",
    "#AEC7E8", "#FFBB78", "#98DF8A", "#FF9896", "#C5B0D5", "#C49C94", "#F7B6D2", "#C7C7C7", "#DBDB8D", "#9EDAE5",
)  # fmt: skip

_COLUMNS = [
    "question", "theme_id", "label", "family_id", "family", "description", "keywords", "status", "created_by",
    "parent_theme_id", "n_excerpts", "n_respondents", "n_validated", "machine_n_excerpts", "machine_label", "lineage",
    "path",
]  # fmt: skip
#: The longest question kept in a code's ``path`` (Taguette refuses a tag path over 200 characters).
PATH_QUESTION_CHARS = 100


def guid(run_id: str, *parts: object) -> str:
    """A deterministic GUID for an object of a run (same run, same object: same GUID)."""
    return str(uuid.uuid5(GUID_NAMESPACE, "/".join([run_id, *(str(p) for p in parts)])))


def theme_guid(run_id: str, question: str, theme_id: int) -> str:
    return guid(run_id, "code", question, theme_id)


def question_guid(run_id: str, question: str) -> str:
    return guid(run_id, "question", question)


def family_guid(run_id: str, question: str, family_id: int) -> str:
    return guid(run_id, "family", question, family_id)


def theme_colour(question: QuestionView, theme_id: int) -> str:
    ids = sorted(question.themes)
    index = ids.index(theme_id) if theme_id in ids else 0
    return PALETTE[index % len(PALETTE)]


def codebook_columns() -> list[str]:
    return list(_COLUMNS)


def _quoted(question: QuestionView, theme_id: int) -> str:
    return f"{theme_id} « {question.label(theme_id)} »"


def theme_lineage(question: QuestionView, theme_id: int) -> str:
    """What happened to the theme: split from / split into / absorbed / merged into, in words."""
    parts = []
    for source, relation, target in lineage(question.state.themes):
        if relation == "split into" and target == theme_id:
            parts.append(f"split from {_quoted(question, source)}")
        elif relation == "split into" and source == theme_id:
            parts.append(f"split into {_quoted(question, target)}")
        elif relation == "merged into" and target == theme_id:
            parts.append(f"absorbed {_quoted(question, source)}")
        elif relation == "merged into" and source == theme_id:
            parts.append(f"merged into {_quoted(question, target)}")
    return "; ".join(parts)


def theme_counts(question: QuestionView, theme_id: int) -> tuple[int, int, int]:
    """(excerpts, distinct respondents, validated excerpts) coded to the theme now."""
    excerpts = question.excerpts_of(theme_id)
    return len(excerpts), len({e.respondent_id for e in excerpts}), sum(e.validated for e in excerpts)


def code_path(question: str, *labels: str) -> str:
    """``question/family/label`` as a nested code's path: each part without ``/``, the question cut short."""
    part = question.replace("/", "-").strip()
    if len(part) > PATH_QUESTION_CHARS:
        part = part[: PATH_QUESTION_CHARS - 1].rstrip() + "…"
    return "/".join([part, *(label.replace("/", "-").strip() for label in labels)])


def codebook_rows(run: RunView) -> list[list[Any]]:
    rows = []
    for q in run.questions:
        for tid in sorted(q.themes):
            t: ThemeView = q.themes[tid]
            n_excerpts, n_respondents, n_validated = theme_counts(q, tid)
            family = q.family(tid)
            family_label = "" if family is None else family.label
            rows.append(
                [
                    q.question, tid, t.label, "" if family is None else family.family_id, family_label,
                    t.state.description, "; ".join(t.keywords),
                    "deleted" if t.state.deleted else "active" if t.state.active else "merged", t.state.created_by,
                    "" if t.state.parent_theme_id is None else t.state.parent_theme_id,
                    n_excerpts, n_respondents, n_validated, t.machine_n_excerpts, t.state.machine_label,
                    theme_lineage(q, tid),
                    code_path(q.question, family_label or "-", t.label or f"thème {tid}"),
                ]
            )  # fmt: skip
    return rows


def write_codebook_csv(run: RunView, path: Path, excel_fr: bool = False) -> Path:
    return write_csv(path, codebook_columns(), codebook_rows(run), excel_fr)


def write_codebook_xlsx(run: RunView, path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = CODEBOOK_SHEET
    fill_sheet(ws, codebook_columns(), codebook_rows(run))
    return write_atomically(path, lambda tmp: wb.save(tmp))


def code_description(question: QuestionView, theme: ThemeView) -> str:
    lines = [theme.state.description.strip()] if theme.state.description.strip() else []
    if theme.keywords:
        lines.append("Mots clés : " + ", ".join(theme.keywords))
    history = theme_lineage(question, theme.theme_id)
    if history:
        lines.append("Historique : " + history)
    lines.append(f"Créé par : {theme.state.created_by}")
    return xml_text("\n".join(lines))


def code_elements(run: RunView, ns: str) -> etree._Element:
    """``<Codes>``: one non-codable code per question, holding a non-codable code per family, holding a codable
    code per active theme of the family."""
    codes = etree.Element(f"{{{ns}}}Codes")
    for q in run.questions:
        parent = etree.SubElement(
            codes, f"{{{ns}}}Code", guid=question_guid(run.run_id, q.question), name=xml_text(q.question),
            isCodable="false",
        )  # fmt: skip
        etree.SubElement(parent, f"{{{ns}}}Description").text = xml_text(f"Question ouverte « {q.question} »")
        for family, themes in q.families():
            family_code = etree.SubElement(
                parent, f"{{{ns}}}Code", guid=family_guid(run.run_id, q.question, family.family_id),
                name=xml_text(family.label) or f"famille {family.family_id}", isCodable="false",
            )  # fmt: skip
            etree.SubElement(family_code, f"{{{ns}}}Description").text = family_description(family)
            for t in themes:
                theme_code(run, q, t, family_code, ns)
    if not len(codes):  # the schema wants at least one code
        etree.SubElement(codes, f"{{{ns}}}Code", guid=guid(run.run_id, "empty"), name="(vide)", isCodable="false")
    return codes


def family_description(family: FamilyState) -> str:
    lines = [f"Famille de thèmes « {family.label} »"]
    if family.keywords:
        lines.append("Mots clés : " + ", ".join(family.keywords))
    if family.label != family.machine_label:
        lines.append(f"Nommée par la machine : {family.machine_label}")
    return xml_text("\n".join(lines))


def theme_code(run: RunView, q: QuestionView, t: ThemeView, parent: etree._Element, ns: str) -> None:
    """A codable ``<Code>`` for an active theme, under ``parent``."""
    code = etree.SubElement(
        parent, f"{{{ns}}}Code", guid=theme_guid(run.run_id, q.question, t.theme_id),
        name=xml_text(t.label) or f"thème {t.theme_id}", isCodable="true", color=theme_colour(q, t.theme_id),
    )  # fmt: skip
    etree.SubElement(code, f"{{{ns}}}Description").text = code_description(q, t)


def codebook_xml(run: RunView) -> bytes:
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin="Verbatim")
    root.append(code_elements(run, CODEBOOK_NS))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def write_qdc(run: RunView, path: Path) -> Path:
    data = codebook_xml(run)
    return write_atomically(path, lambda tmp: tmp.write_bytes(data))
