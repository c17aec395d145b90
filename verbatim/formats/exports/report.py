"""The quote report for the report team: per question and theme, its size, a chart and the best quotes.

For each question: the theme sizes chart and the theme × attribute heatmap, whose significant cells are marked
(▲ / ▼, :mod:`verbatim.formats.exports.charts`, from the specificities of
:func:`verbatim.formats.exports.specificities.question_specificities`), with its legend; then the themes under a
heading per family (families in their order, 'Autres' last; within a family, largest theme first; themes with no
excerpt left are skipped): each theme's label, a one-line description, how many respondents mention it and what
share of the respondents whose answer was analysed, the groups that stand out (every attribute's over- and
under-represented values, in words: :func:`verbatim.models.specificities.in_words`), a chart of the theme by an
attribute (``profession`` by default, when the run has it), and the ``n`` best quotes
(:mod:`verbatim.formats.exports.citations`), each attributed. A theme without any validated excerpt shows the
machine's codes instead, and says so.

Written as ``report.md`` (with the PNG files beside it) and ``report.docx`` (charts embedded), in one folder, all at
once. Everything comes from the store, which holds only pseudonymised text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor

from verbatim.formats.exports.cells import staged_folder, write_atomically, xml_text
from verbatim.formats.exports.charts import (
    HEATMAP_LEGEND,
    chart_file_name,
    heatmap_table,
    respondents_by_theme,
    theme_by_attribute_chart,
    theme_heatmap,
    theme_sizes_chart,
)
from verbatim.formats.exports.citations import DEFAULT_ATTRIBUTION, MAX_CHARS, QuoteChoice, choose_quotes
from verbatim.formats.exports.data import RunView
from verbatim.formats.exports.specificities import question_specificities
from verbatim.models.specificities import Direction, Specificity, in_words

DEFAULT_CHART_ATTRIBUTE = "profession"
MACHINE_WARNING = (
    "Aucun extrait validé pour ce thème : les citations ci-dessous sont codées par la machine, "
    "à vérifier avant de les citer."
)


@dataclass
class ThemeSection:
    theme_id: int
    label: str
    description: str
    n_respondents: int
    share: float  # of the respondents whose answer was analysed, in [0, 1]
    chart: str | None  # PNG file name in the report folder
    quotes: QuoteChoice
    standouts: list[str] = field(default_factory=list)  # the groups that stand out, in words


@dataclass
class FamilySection:
    family_id: int
    label: str
    themes: list[ThemeSection] = field(default_factory=list)


@dataclass
class QuestionSection:
    question: str
    n_answers: int  # respondents whose answer was analysed
    sizes_chart: str
    heatmap_chart: str | None
    themes: list[ThemeSection] = field(default_factory=list)  # every theme, in the order of the families
    families: list[FamilySection] = field(default_factory=list)
    heatmap_marks: dict[tuple[int, str], Direction] = field(default_factory=dict)  # (theme id, value) -> mark


@dataclass
class Report:
    run_id: str
    created: str
    chart_attribute: str | None
    questions: list[QuestionSection] = field(default_factory=list)


def one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rsplit(" ", 1)[0] + "…"


def standing_out(cells: Sequence[Specificity], theme_id: int) -> list[str]:
    """The groups that stand out on a theme, in words: over-represented first, then under, surest first."""
    marked = [c for c in cells if c.theme_id == theme_id and c.direction != Direction.NONE]
    marked.sort(key=lambda c: (c.direction != Direction.OVER, c.p_adjusted, c.attribute, c.value))
    return [in_words(c) for c in marked]


def build_report(
    run: RunView,
    folder: Path,
    n_quotes: int = 5,
    chart_attribute: str | None = None,
    attribution_columns: Sequence[str] = DEFAULT_ATTRIBUTION,
    max_chars: int = MAX_CHARS,
) -> Report:
    """Choose the quotes and draw the charts (PNG files in ``folder``) of every question of ``run``."""
    if chart_attribute is None and DEFAULT_CHART_ATTRIBUTE in run.attributes:
        chart_attribute = DEFAULT_CHART_ATTRIBUTE
    if chart_attribute is not None and chart_attribute not in run.attributes:
        chart_attribute = None
    report = Report(run.run_id, f"{run.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC", chart_attribute)
    for qi, q in enumerate(run.questions, start=1):
        base = len(q.respondents_answering())
        sizes = chart_file_name(f"q{qi}", q.question, "themes")
        theme_sizes_chart(q, folder / sizes)
        cells = question_specificities(run, q)
        heatmap = None
        marks: dict[tuple[int, str], Direction] = {}
        if chart_attribute:
            heatmap = chart_file_name(f"q{qi}", q.question, chart_attribute)
            theme_heatmap(run, q, chart_attribute, folder / heatmap, cells=cells)
            marks = heatmap_table(run, q, chart_attribute, cells=cells).marks
        section = QuestionSection(q.question, base, sizes, heatmap, heatmap_marks=marks)
        by_theme = respondents_by_theme(q)
        for family, themes in q.families():
            family_section = FamilySection(family.family_id, family.label)
            for t in sorted(themes, key=lambda t: (-len(by_theme[t.theme_id]), t.theme_id)):
                n = len(by_theme[t.theme_id])
                if n == 0:
                    continue
                chart = None
                if chart_attribute:
                    chart = chart_file_name(f"q{qi}", q.question, f"theme{t.theme_id}", chart_attribute)
                    theme_by_attribute_chart(run, q, t.theme_id, chart_attribute, folder / chart)
                family_section.themes.append(
                    ThemeSection(
                        t.theme_id, t.label, one_line(t.state.description), n, n / max(1, base), chart,
                        choose_quotes(run, q, t.theme_id, n_quotes, attribution_columns, max_chars),
                        standing_out(cells, t.theme_id),
                    )
                )  # fmt: skip
            if family_section.themes:
                section.families.append(family_section)
                section.themes += family_section.themes
        report.questions.append(section)
    return report


def _md(text: str) -> str:
    """Text safe inside a Markdown paragraph: one line, inline markup characters escaped."""
    line = " ".join(text.split())
    for char in ("\\", "`", "*", "_", "<", ">", "#", "|"):
        line = line.replace(char, "\\" + char)
    return line


def _share(section: ThemeSection) -> str:
    return f"{100 * section.share:.0f} %"


def report_markdown(report: Report) -> str:
    lines = [
        f"# Rapport de citations — run {report.run_id}",
        "",
        f"Analyse du {report.created}. Citations pseudonymisées (noms, adresses, téléphones, e-mails masqués), "
        "validées par l'équipe de recherche sauf mention contraire.",
        "",
    ]
    for q in report.questions:
        lines += [
            f"## Question « {_md(q.question)} »",
            "",
            f"{q.n_answers} réponses analysées, {len(q.themes)} thèmes.",
            "",
        ]
        lines += [f"![Thèmes de « {_md(q.question)} »]({q.sizes_chart})", ""]
        if q.heatmap_chart and report.chart_attribute:
            lines += [f"![Thèmes selon {_md(report.chart_attribute)}]({q.heatmap_chart})", ""]
            lines += [f"*{_md(HEATMAP_LEGEND)}*", ""]
        numbered = _numbered(q)
        for family in q.families:
            lines += [f"### Famille « {_md(family.label)} »", ""]
            for t in family.themes:
                lines += _theme_markdown(report, t, numbered[t.theme_id])
    return "\n".join(lines).rstrip() + "\n"


def _numbered(q: QuestionSection) -> dict[int, int]:
    return {t.theme_id: i for i, t in enumerate(q.themes, start=1)}


STANDOUTS_HEADING = "Groupes qui se distinguent"


def _theme_markdown(report: Report, t: ThemeSection, i: int) -> list[str]:
    lines = [f"#### {i}. {_md(t.label)}", ""]
    if t.description:
        lines += [f"*{_md(t.description)}*", ""]
    lines += [f"**{t.n_respondents} répondants** ({_share(t)} des réponses analysées).", ""]
    if t.standouts:
        lines += [f"{STANDOUTS_HEADING} :", "", *(f"- {_md(w)}" for w in t.standouts), ""]
    if t.chart and report.chart_attribute:
        lines += [f"![{_md(t.label)} selon {_md(report.chart_attribute)}]({t.chart})", ""]
    if not t.quotes.validated:
        lines += [f"> **Attention :** {MACHINE_WARNING}", ""]
    for quote in t.quotes.quotes:
        lines += [f"> « {_md(quote.text)} »", ">"]
        lines += [f"> — {_md(quote.attribution) or 'répondant·e'}", ""]
    return lines


def write_markdown(report: Report, path: Path) -> Path:
    text = report_markdown(report)
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))


def write_docx(report: Report, path: Path, charts: Path) -> Path:
    """The report as a Word document; charts from the folder ``charts`` are embedded."""
    doc = Document()
    doc.core_properties.title = f"Rapport de citations — run {report.run_id}"
    doc.core_properties.author = "Verbatim"
    doc.core_properties.language = "fr-FR"
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    doc.add_heading(xml_text(f"Rapport de citations — run {report.run_id}"), level=0)
    doc.add_paragraph(
        f"Analyse du {report.created}. Citations pseudonymisées (noms, adresses, téléphones, e-mails masqués), "
        "validées par l'équipe de recherche sauf mention contraire."
    )
    for q in report.questions:
        doc.add_heading(xml_text(f"Question « {q.question} »"), level=1)
        doc.add_paragraph(f"{q.n_answers} réponses analysées, {len(q.themes)} thèmes.")
        doc.add_picture(str(charts / q.sizes_chart), width=Cm(16))
        if q.heatmap_chart:
            doc.add_picture(str(charts / q.heatmap_chart), width=Cm(16))
            doc.add_paragraph().add_run(xml_text(HEATMAP_LEGEND)).italic = True
        numbered = _numbered(q)
        for family in q.families:
            doc.add_heading(xml_text(f"Famille « {family.label} »"), level=2)
            for t in family.themes:
                _theme_docx(doc, t, numbered[t.theme_id], charts)
    return write_atomically(path, lambda tmp: doc.save(str(tmp)))


def _theme_docx(doc: Any, t: ThemeSection, i: int, charts: Path) -> None:
    doc.add_heading(xml_text(f"{i}. {t.label}"), level=3)
    if t.description:
        doc.add_paragraph().add_run(xml_text(t.description)).italic = True
    stats = doc.add_paragraph()
    stats.add_run(f"{t.n_respondents} répondants").bold = True
    stats.add_run(f" ({_share(t)} des réponses analysées).")
    if t.standouts:
        doc.add_paragraph().add_run(f"{STANDOUTS_HEADING} :").bold = True
        for words in t.standouts:
            doc.add_paragraph(xml_text(words), style="List Bullet")
    if t.chart:
        doc.add_picture(str(charts / t.chart), width=Cm(12))
    if not t.quotes.validated:
        warning = doc.add_paragraph().add_run(f"Attention : {MACHINE_WARNING}")
        warning.bold = True
        warning.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    for quote in t.quotes.quotes:
        doc.add_paragraph(xml_text(f"« {quote.text} »"), style="Quote")
        who = doc.add_paragraph(xml_text(f"— {quote.attribution or 'répondant·e'}"))
        who.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        who.runs[0].italic = True


def write_report(
    run: RunView,
    folder: Path,
    n_quotes: int = 5,
    chart_attribute: str | None = None,
    attribution_columns: Sequence[str] = DEFAULT_ATTRIBUTION,
    formats: Sequence[str] = ("md", "docx"),
) -> list[Path]:
    """``report.md`` with its PNG charts and ``report.docx`` in ``folder``, all written or none."""
    with staged_folder(folder) as staging:
        report = build_report(run, staging, n_quotes, chart_attribute, attribution_columns)
        if "md" in formats:
            write_markdown(report, staging / "report.md")
        if "docx" in formats:
            write_docx(report, staging / "report.docx", staging)
        names = sorted(p.name for p in staging.iterdir() if not p.name.startswith("."))
    return [folder / n for n in names]
