"""The files of a run folder (``data/runs/<run_id>/``), written all at once or not at all.

* ``coded_excerpts.csv``: one row per excerpt (columns in :data:`CODED_EXCERPT_COLUMNS`, then one per attribute);
* ``themes.csv``: one row per theme (:data:`THEME_COLUMNS`);
* ``answers.csv``: one row per (question, respondent) (:data:`ANSWER_COLUMNS`);
* ``manifest.json``: parameters, seed, encoder, package versions, input hash and counts.

CSV files are UTF-8, comma-separated, ``\\n`` line ends, scores with 4 decimals, rows in a fixed order: the same
run gives the same bytes. Files are written into a hidden sibling folder that is renamed into place at the end,
so a failure never leaves a half-written run folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from verbatim.models.records import Answer, Coding, Excerpt, Respondent, Theme

CODED_EXCERPT_COLUMNS = [
    "run_id", "question", "respondent_id", "excerpt_id", "start", "end", "excerpt", "theme_id", "theme_label",
    "score", "runner_up_theme_id",
]  # fmt: skip
THEME_COLUMNS = [
    "question", "theme_id", "label", "description", "keywords", "n_excerpts", "n_respondents",
    "representative_excerpts",
]  # fmt: skip
ANSWER_COLUMNS = ["question", "respondent_id", "status", "reason", "n_excerpts", "theme_ids", "theme_labels"]
QUEUE_LABEL = "(à revoir)"


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.4f")


def coded_excerpts_frame(
    run_id: str,
    excerpts: Sequence[Excerpt],
    codings: Sequence[Coding],
    themes: Sequence[Theme],
    respondents: Sequence[Respondent],
    attributes: Sequence[str],
) -> pd.DataFrame:
    labels = {(t.question, t.theme_id): t.label for t in themes}
    by_excerpt = {c.excerpt_id: c for c in codings}
    attrs = {r.respondent_id: r.attributes for r in respondents}
    rows = []
    for e in excerpts:
        c = by_excerpt[e.excerpt_id]
        rows.append(
            [
                run_id, e.question, e.respondent_id, e.excerpt_id, e.start, e.end, e.text, c.theme_id,
                labels.get((e.question, c.theme_id), QUEUE_LABEL), round(c.score, 4),
                "" if c.runner_up_theme_id is None or c.runner_up_theme_id < 0 else c.runner_up_theme_id,
                *(attrs[e.respondent_id].get(a, "") for a in attributes),
            ]
        )  # fmt: skip
    return pd.DataFrame(rows, columns=[*CODED_EXCERPT_COLUMNS, *attributes])


def themes_frame(themes: Sequence[Theme], excerpts: Sequence[Excerpt]) -> pd.DataFrame:
    texts = {e.excerpt_id: e.text for e in excerpts}
    rows = [
        [
            t.question, t.theme_id, t.label, t.description, "; ".join(t.keywords), t.n_excerpts, t.n_respondents,
            "\n".join(texts[i] for i in t.representative_excerpt_ids),
        ]
        for t in themes
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=THEME_COLUMNS)


def answers_frame(
    answers: Sequence[Answer],
    n_excerpts: dict[tuple[str, str], int],
    answer_themes: dict[tuple[str, str], list[int]],
    themes: Sequence[Theme],
) -> pd.DataFrame:
    labels = {(t.question, t.theme_id): t.label for t in themes}
    rows = []
    for a in answers:
        key = (a.question, a.respondent_id)
        ids = answer_themes.get(key, [])
        rows.append(
            [
                a.question, a.respondent_id, str(a.status), str(a.reason) if a.reason else "", n_excerpts.get(key, 0),
                ";".join(str(i) for i in ids), " ; ".join(labels[(a.question, i)] for i in ids),
            ]
        )  # fmt: skip
    return pd.DataFrame(rows, columns=ANSWER_COLUMNS)


@contextmanager
def staged_run_folder(out_dir: Path, run_id: str) -> Iterator[Path]:
    """Yield a hidden staging folder; on success it becomes ``out_dir/run_id``, on failure it is removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / run_id
    staging = out_dir / f".{run_id}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_run_files(
    folder: Path,
    manifest: dict[str, Any],
    coded_excerpts: pd.DataFrame,
    themes: pd.DataFrame,
    answers: pd.DataFrame,
) -> None:
    _write_csv(coded_excerpts, folder / "coded_excerpts.csv")
    _write_csv(themes, folder / "themes.csv")
    _write_csv(answers, folder / "answers.csv")
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
