"""The quote report (Markdown + PNG, DOCX) from a real reviewed run; the DOCX opens in LibreOffice."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document

from tests.export_support import ReviewedRun
from verbatim.formats.exports import write_report
from verbatim.formats.exports.charts import HEATMAP_LEGEND, MARKS, respondents_by_theme
from verbatim.formats.exports.data import RunView
from verbatim.formats.exports.report import MACHINE_WARNING, STANDOUTS_HEADING, build_report
from verbatim.formats.exports.specificities import specificity_rows
from verbatim.models.specificities import Direction

pytestmark = pytest.mark.slow  # the first test of the session analyses the survey (about a minute)
INSTALL = "apt-get update && apt-get install -y libreoffice-writer-nogui poppler-utils"


@pytest.fixture(scope="module")
def folder(run: RunView, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report"
    write_report(run, out, n_quotes=5)
    return out


def _sections(markdown: str) -> dict[str, str]:
    """Theme heading -> its Markdown, for the first question."""
    first = markdown.split("\n## ")[1]
    parts = re.split(r"\n#### \d+\. ", first)
    return {p.split("\n", 1)[0]: p for p in parts[1:]}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_markdown_report_with_charts_next_to_it(run: RunView, folder: Path) -> None:
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(images) > 20
    for name in images:
        data = (folder / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    assert "## Question « difficultes »" in markdown and "## Question « idees »" in markdown
    assert re.search(r"\*\*\d+ répondants\*\* \(\d+ % des réponses analysées\)", markdown)


def test_quotes_are_validated_diverse_short_and_attributed(reviewed: ReviewedRun, run: RunView, folder: Path) -> None:
    d = reviewed.decisions
    q = run.question("difficultes")
    sections = _sections((folder / "report.md").read_text(encoding="utf-8"))
    texts = {e.excerpt_id: e for e in q.excerpts}
    accepted_texts = {" ".join(texts[e].text.split()) for e in d.accepted}
    accepted_section = sections[q.label(d.accepted_theme)]
    quotes = [_unescape(m) for m in re.findall(r"^> « (.*) »$", accepted_section, flags=re.M)]
    assert quotes and len(quotes) <= 5
    assert MACHINE_WARNING not in accepted_section
    for quote in quotes:
        assert quote in accepted_texts or quote.endswith("[…]"), "validated quotes only, when there are some"
        assert len(quote) <= 300
    attributions = re.findall(r"^> — (.*)$", accepted_section, flags=re.M)
    assert len(attributions) == len(quotes)
    professions = {run.respondents[texts[e].respondent_id]["profession"] for e in d.accepted}
    assert any(a.split(", ")[0] in professions for a in attributions)
    machine_only = [s for label, s in sections.items() if label != q.label(d.accepted_theme) and "« " in s]
    assert any(MACHINE_WARNING in s for s in machine_only), "themes with no validated excerpt say so"
    for section in sections.values():
        quotes = re.findall(r"^> « (.*) »$", section, flags=re.M)
        assert len(quotes) == len(set(quotes)) and len(quotes) <= 5


def test_docx_embeds_charts_and_quotes(folder: Path) -> None:
    doc = Document(str(folder / "report.docx"))
    charts = [p for p in folder.iterdir() if p.suffix == ".png"]
    assert len(doc.inline_shapes) == len(charts)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Question « difficultes »" in text
    quotes = [p.text for p in doc.paragraphs if p.style is not None and p.style.name == "Quote"]
    assert len(quotes) > 20 and all(q.startswith("« ") for q in quotes)


def _flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _letters(text: str) -> str:
    return re.sub(r"[\s\-\u00ad\u2010\u2011]+", "", unicodedata.normalize("NFKC", text))


def test_docx_opens_in_libreoffice_and_shows_the_quotes(folder: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, f"LibreOffice is needed to check the DOCX report: {INSTALL}"
    assert shutil.which("pdftotext"), f"pdftotext (poppler-utils) is needed: {INSTALL}"
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir",
         str(tmp_path), str(folder / "report.docx")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    pdf = tmp_path / "report.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    text = _flat(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True).stdout.decode())
    doc = Document(str(folder / "report.docx"))
    quotes = [p.text for p in doc.paragraphs if p.style is not None and p.style.name == "Quote"]
    assert quotes
    # Lines wrap and LibreOffice may hyphenate: compare the letters, ignoring whitespace and hyphens.
    letters = _letters(text)
    for quote in quotes:
        assert _letters(quote.strip("« »")) in letters, quote


def test_themes_come_under_their_family(run: RunView, folder: Path) -> None:
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    for number, q in enumerate(run.questions, start=1):
        part = markdown.split("\n## ")[number]
        headings = re.findall(r"^### Famille « (.*) »$", part, flags=re.M)
        families = q.families()
        assert [_unescape(h) for h in headings] == [f.label for f, _ in families]
        for family, themes in families:
            section = part.split("### Famille « ")[1 + [f.label for f, _ in families].index(family.label)]
            titles = [_unescape(t) for t in re.findall(r"^#### \d+\. (.*)$", section, flags=re.M)]
            assert set(titles) <= {t.label for t in themes} and titles


def planted_profession(run: RunView) -> RunView:
    """The reviewed run with a planted profession: the respondents who carry the largest theme of the first question
    are 'groupe A', the others 'groupe B' (the sample's own professions show no significant difference)."""
    q = run.questions[0]
    by_theme = respondents_by_theme(q)
    largest = max(by_theme, key=lambda t: (len(by_theme[t]), -t))
    respondents = {
        r: {**attrs, "profession": "groupe A" if r in by_theme[largest] else "groupe B"}
        for r, attrs in run.respondents.items()
    }
    return replace(run, respondents=respondents)


def test_the_heatmap_marks_what_the_specificities_export_marks(run: RunView, tmp_path: Path) -> None:
    """The cells of the profession heatmap marked ▲ / ▼ are the export's over / under cells of profession, and each
    theme's text names the groups that stand out, in words."""
    planted = planted_profession(run)
    exported = {
        (q, theme_id, value): direction
        for q, theme_id, _, attribute, value, *_, direction in specificity_rows(planted)
        if attribute == "profession" and direction
    }
    assert {d for (q, _, _), d in exported.items() if q == run.questions[0].question} == {"over", "under"}
    report = build_report(planted, tmp_path, n_quotes=1)
    drawn = {
        (q.question, theme_id, value): str(direction)
        for q in report.questions
        for (theme_id, value), direction in q.heatmap_marks.items()
    }
    assert drawn == exported
    write_report(planted, tmp_path / "out", n_quotes=1, formats=("md",))
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert markdown.count(HEATMAP_LEGEND.split(" :")[0]) == len(run.questions)  # the legend under each heatmap
    assert f"{STANDOUTS_HEADING} :" in markdown
    for (question, theme_id, value), direction in exported.items():
        section = next(
            t for s in report.questions if s.question == question for t in s.themes if t.theme_id == theme_id
        )
        said = [w for w in section.standouts if w.startswith(f"profession = {value} :")]
        assert said and re.search("fois plus" if direction == "over" else "fois moins|aucun", said[0])
    assert MARKS[Direction.OVER] == "▲" and MARKS[Direction.UNDER] == "▼"
