"""The quote report for the report team: per question and theme, its size, a chart and the best quotes.

For each question: the theme sizes chart and the theme × attribute heatmap; then for each theme (largest first,
themes with no excerpt left are skipped): its label, a one-line description, how many respondents mention it and
what share of the respondents whose answer was analysed, a chart of the theme by an attribute (``profession`` by
default, when the run has it), and the ``n`` best quotes (:mod:`verbatim.formats.exports.citations`), each
attributed. A theme without any validated excerpt shows the machine's codes instead, and says so.

Written as ``report.md`` (with the PNG files beside it) and ``report.docx`` (charts embedded), in one folder, all at
once. Everything comes from the store, which holds only pseudonymised text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt, RGBColor

from verbatim.formats.exports.cells import staged_folder, write_atomically, xml_text
from verbatim.formats.exports.charts import (
    chart_file_name,
    respondents_by_theme,
    theme_by_attribute_chart,
    theme_heatmap,
    theme_sizes_chart,
)
from verbatim.formats.exports.citations import DEFAULT_ATTRIBUTION, MAX_CHARS, QuoteChoice, choose_quotes
from verbatim.formats.exports.data import RunView

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


@dataclass
class QuestionSection:
    question: str
    n_answers: int  # respondents whose answer was analysed
    sizes_chart: str
    heatmap_chart: str | None
    themes: list[ThemeSection] = field(default_factory=list)


@dataclass
class Report:
    run_id: str
    created: str
    chart_attribute: str | None
    questions: list[QuestionSection] = field(default_factory=list)


def one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rsplit(" ", 1)[0] + "…"


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
        heatmap = None
        if chart_attribute:
            heatmap = chart_file_name(f"q{qi}", q.question, chart_attribute)
            theme_heatmap(run, q, chart_attribute, folder / heatmap)
        section = QuestionSection(q.question, base, sizes, heatmap)
        by_theme = respondents_by_theme(q)
        for t in sorted(q.active_themes(), key=lambda t: (-len(by_theme[t.theme_id]), t.theme_id)):
            n = len(by_theme[t.theme_id])
            if n == 0:
                continue
            chart = None
            if chart_attribute:
                chart = chart_file_name(f"q{qi}", q.question, f"theme{t.theme_id}", chart_attribute)
                theme_by_attribute_chart(run, q, t.theme_id, chart_attribute, folder / chart)
            section.themes.append(
                ThemeSection(
                    t.theme_id, t.label, one_line(t.state.description), n, n / max(1, base), chart,
                    choose_quotes(run, q, t.theme_id, n_quotes, attribution_columns, max_chars),
                )
            )  # fmt: skip
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
        for i, t in enumerate(q.themes, start=1):
            lines += [f"### {i}. {_md(t.label)}", ""]
            if t.description:
                lines += [f"*{_md(t.description)}*", ""]
            lines += [f"**{t.n_respondents} répondants** ({_share(t)} des réponses analysées).", ""]
            if t.chart and report.chart_attribute:
                lines += [f"![{_md(t.label)} selon {_md(report.chart_attribute)}]({t.chart})", ""]
            if not t.quotes.validated:
                lines += [f"> **Attention :** {MACHINE_WARNING}", ""]
            for quote in t.quotes.quotes:
                lines += [f"> « {_md(quote.text)} »", ">"]
                lines += [f"> — {_md(quote.attribution) or 'répondant·e'}", ""]
    return "\n".join(lines).rstrip() + "\n"


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
        for i, t in enumerate(q.themes, start=1):
            doc.add_heading(xml_text(f"{i}. {t.label}"), level=2)
            if t.description:
                doc.add_paragraph().add_run(xml_text(t.description)).italic = True
            stats = doc.add_paragraph()
            stats.add_run(f"{t.n_respondents} répondants").bold = True
            stats.add_run(f" ({_share(t)} des réponses analysées).")
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
    return write_atomically(path, lambda tmp: doc.save(str(tmp)))


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
