"""Charts as PNG (matplotlib, Agg canvas, no pyplot state): theme sizes, theme × attribute heatmap, one theme by
attribute. Labels in French, long labels wrapped on two lines and cut with "…", sizes grown with the number of rows.

Shares are of respondents: a theme "mentioned by 12 % of the éducateurs" means 12 % of the éducateurs whose answer
to the question was analysed have at least one excerpt coded to the theme now (after the researchers' decisions).

The heatmap marks the cells that the specificities (:mod:`verbatim.models.specificities`: exact hypergeometric test,
Benjamini-Hochberg) find over-represented (▲, dark border) or under-represented (▼, dashed border), with the legend
:data:`HEATMAP_LEGEND` under the chart; the gathered "autres" column and the "(non renseigné)" group are never marked.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from verbatim.formats.exports.cells import write_atomically
from verbatim.formats.exports.data import QuestionView, RunView, ThemeView
from verbatim.models.specificities import Direction, Specificity

#: The sign of a marked heatmap cell.
MARKS = {Direction.OVER: "▲", Direction.UNDER: "▼"}
HEATMAP_LEGEND = (
    "▲ / ▼ : le groupe en parle significativement plus / moins que l'ensemble "
    "(test exact hypergéométrique, p ajusté de Benjamini-Hochberg < 0,05, groupes d'au moins 10 répondants)"
)

BAR_COLOUR = "#305496"
_METADATA = {"Software": None}  # no version string in the file: the same data give the same bytes


def short_label(text: str, width: int = 32, lines: int = 2) -> str:
    """``text`` wrapped at ``width`` characters on at most ``lines`` lines, the rest cut with "…"."""
    wrapped = textwrap.wrap(" ".join(text.split()), width=width, break_long_words=True) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return "\n".join(wrapped)


def respondents_by_theme(question: QuestionView) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {t.theme_id: set() for t in question.active_themes()}
    for e in question.excerpts:
        if e.code.theme_id in out:
            out[e.code.theme_id].add(e.respondent_id)
    return out


def attribute_groups(run: RunView, question: QuestionView, attribute: str) -> dict[str, set[str]]:
    """Respondents who answered the question, grouped by their value of ``attribute``, largest group first."""
    groups: dict[str, set[str]] = {}
    for respondent_id in question.respondents_answering():
        value = run.respondents.get(respondent_id, {}).get(attribute, "").strip() or "(non renseigné)"
        groups.setdefault(value, set()).add(respondent_id)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    return write_atomically(path, lambda tmp: fig.savefig(tmp, format="png", dpi=150, metadata=_METADATA))


def theme_sizes_chart(question: QuestionView, path: Path, title: str | None = None) -> Path:
    """Horizontal bars: respondents per theme, largest on top, with the share of respondents who answered."""
    by_theme = respondents_by_theme(question)
    base = max(1, len(question.respondents_answering()))
    themes = sorted(question.active_themes(), key=lambda t: (-len(by_theme[t.theme_id]), t.theme_id))
    counts = [len(by_theme[t.theme_id]) for t in themes]
    labels = [short_label(t.label, 40) for t in themes]
    fig = Figure(figsize=(9, 1.2 + 0.42 * max(1, len(themes))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(themes))
    ax.barh(y, counts, color=BAR_COLOUR)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    top = max(counts, default=1) or 1
    for i, n in enumerate(counts):
        ax.text(n + top * 0.01, i, f"{n} ({100 * n / base:.0f} %)", va="center", fontsize=7)
    ax.set_xlim(0, top * 1.2)
    ax.set_xlabel(f"Répondants (sur {base} réponses analysées)")
    ax.set_title(title or f"Thèmes de « {question.question} »", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)


@dataclass
class Heatmap:
    """What the theme × attribute heatmap shows: themes (rows, largest first), groups (columns), the share of each
    group mentioning each theme (%), and the marked cells ``(theme_id, group) -> over | under``."""

    attribute: str
    themes: list[ThemeView]
    groups: dict[str, set[str]]
    values: np.ndarray
    marks: dict[tuple[int, str], Direction] = field(default_factory=dict)


def heatmap_table(
    run: RunView, question: QuestionView, attribute: str, max_columns: int = 14, cells: Sequence[Specificity] = ()
) -> Heatmap:
    """The heatmap's numbers and marks (``cells``: the question's specificities; those of ``attribute`` with a
    direction mark their cell); the smallest groups beyond ``max_columns`` are gathered in "autres"."""
    by_theme = respondents_by_theme(question)
    groups = attribute_groups(run, question, attribute)
    if len(groups) > max_columns:
        names = list(groups)
        kept = {k: groups[k] for k in names[: max_columns - 1]}
        kept["autres"] = set().union(*(groups[k] for k in names[max_columns - 1 :]))
        groups = kept
    themes = sorted(question.active_themes(), key=lambda t: (-len(by_theme[t.theme_id]), t.theme_id))
    values = np.zeros((len(themes), len(groups)))
    for i, t in enumerate(themes):
        for j, members in enumerate(groups.values()):
            values[i, j] = 100 * len(by_theme[t.theme_id] & members) / max(1, len(members))
    shown = {t.theme_id for t in themes}
    marks: dict[tuple[int, str], Direction] = {
        (c.theme_id, c.value): c.direction
        for c in cells
        if c.attribute == attribute and c.direction != Direction.NONE and c.theme_id in shown and c.value in groups
        and c.value != "autres"
    }  # fmt: skip
    return Heatmap(attribute, themes, groups, values, marks)


def theme_heatmap(
    run: RunView,
    question: QuestionView,
    attribute: str,
    path: Path,
    max_columns: int = 14,
    cells: Sequence[Specificity] = (),
) -> Path:
    """Themes (rows) × values of ``attribute`` (columns): the share of each group's respondents who mention the
    theme, in %, annotated, the significant cells marked (see :func:`heatmap_table` and the module's legend)."""
    table = heatmap_table(run, question, attribute, max_columns, cells)
    themes, groups, values = table.themes, table.groups, table.values
    width = 3.5 + 0.75 * max(1, len(groups))
    fig = Figure(figsize=(width, 2.6 + 0.4 * max(1, len(themes))), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(values if values.size else np.zeros((1, 1)), cmap="Blues", aspect="auto", vmin=0)
    ax.set_yticks(range(len(themes)), [short_label(t.label, 36) for t in themes], fontsize=8)
    ax.set_xticks(
        range(len(groups)),
        [f"{short_label(g, 18)}\n(n={len(m)})" for g, m in groups.items()],
        fontsize=7,
        rotation=45,
        ha="right",
        rotation_mode="anchor",
    )
    high = values.max() if values.size else 0
    names = list(groups)
    for i, t in enumerate(themes):
        for j in range(len(groups)):
            v = values[i, j]
            mark = table.marks.get((t.theme_id, names[j]))
            text = f"{v:.0f}" + (f" {MARKS[mark]}" if mark else "")
            colour = "white" if v > high * 0.6 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour, weight="bold" if mark else None)
            if mark:
                style = "solid" if mark == Direction.OVER else "dashed"
                ax.add_patch(
                    Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, edgecolor="#C00000", lw=1.4, ls=style)
                )
    fig.colorbar(image, ax=ax, label="% des répondants du groupe", shrink=0.8)
    ax.set_title(f"« {question.question} » : thèmes selon {attribute} (% des répondants)", fontsize=10)
    ax.set_xlabel(textwrap.fill(HEATMAP_LEGEND, max(40, int(11 * width))), fontsize=6.5, loc="left")
    return _save(fig, path)


def theme_by_attribute_chart(
    run: RunView, question: QuestionView, theme_id: int, attribute: str, path: Path, max_bars: int = 12
) -> Path:
    """One theme: for each value of ``attribute``, the share of its respondents who mention the theme (n/N)."""
    members = respondents_by_theme(question).get(theme_id, set())
    groups = list(attribute_groups(run, question, attribute).items())[:max_bars]
    shares = [100 * len(members & g) / max(1, len(g)) for _, g in groups]
    fig = Figure(figsize=(7, 1.0 + 0.36 * max(1, len(groups))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(groups))
    ax.barh(y, shares, color=BAR_COLOUR)
    ax.set_yticks(y, [short_label(name, 34, 1) for name, _ in groups], fontsize=8)
    ax.invert_yaxis()
    for i, ((_, g), share) in enumerate(zip(groups, shares, strict=True)):
        ax.text(share + 1, i, f"{share:.0f} % ({len(members & g)}/{len(g)})", va="center", fontsize=7)
    ax.set_xlim(0, min(100, max(shares, default=0) * 1.35 + 5))
    ax.set_xlabel(f"% des répondants de chaque groupe ({attribute})")
    ax.spines[["top", "right"]].set_visible(False)
    label = question.label(theme_id)
    ax.set_title(short_label(f"{label} — selon {attribute}", 70, 2), fontsize=9)
    return _save(fig, path)


def chart_file_name(*parts: object) -> str:
    """A safe, readable PNG file name."""
    import re

    stem = "-".join(str(p) for p in parts)
    return re.sub(r"[^\w.-]+", "_", stem, flags=re.ASCII).strip("_")[:120] + ".png"


__all__: Sequence[str] = (
    "HEATMAP_LEGEND",
    "Heatmap",
    "attribute_groups",
    "chart_file_name",
    "heatmap_table",
    "short_label",
    "theme_by_attribute_chart",
    "theme_heatmap",
    "theme_sizes_chart",
)
