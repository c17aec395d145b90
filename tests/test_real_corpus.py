"""The analyse_survey flow end to end on 2,000 real answers: Grand Débat, « Administration de la retraite ».

Real survey data: answers from two words ("RAS", "Non", "non concerné") to a few paragraphs. The export is built
under ``tmp_path`` from ``../shared/corpora/granddebat/`` (read by path, never copied into the repository): an id
column, two attribute columns taken from the file (``theme``, ``csv_column``) and the answers under the question's
label. Slow: two runs of the whole flow (a few minutes). Without the corpus the tests fail, they do not skip.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CORPORA, cache_without_fitted_themes
from verbatim.flows.analyse import RunResult, analyse_survey
from verbatim.flows.config import AnalyseConfig
from verbatim.models.store import Store

pytestmark = pytest.mark.slow

GRAND_DEBAT = CORPORA / "granddebat" / "gd_answers_all_questions.csv.gz"
THEME, CSV_COLUMN = "organisation", "34"  # « Administration de la retraite »: many "RAS", "Non", "non concerné"
QUESTION = "Administration de la retraite"
ATTRIBUTES = ["theme", "csv_column"]
N_ANSWERS = 2_000
SEED = 42
#: Short answers that say nothing, as they appear in this question (compared lower-cased, without a final ".").
PLACEHOLDERS = {"ras", "r.a.s", "non", "néant", "neant", "non concerné", "non concernée", "sans objet", "aucune"}


def _corpus_or_fail() -> Path:
    if not GRAND_DEBAT.exists():
        pytest.fail(
            f"the Grand Débat corpus is missing: expected {GRAND_DEBAT} (the shared corpora sit beside the "
            "repository, in ../shared/corpora/). Slow tests need it; run `pytest -m 'not slow'` without it.",
            pytrace=False,
        )
    return GRAND_DEBAT


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split())).lower().rstrip(".")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real_corpus")


@pytest.fixture(scope="module")
def survey(workdir: Path) -> pd.DataFrame:
    """The export as written to ``survey.csv``: ``id``, the attributes, then the answers (all as text)."""
    data = pd.read_csv(_corpus_or_fail(), dtype=str, keep_default_na=False)
    rows = data[(data["theme"] == THEME) & (data["csv_column"] == CSV_COLUMN)]
    assert len(rows) >= N_ANSWERS, f"question {THEME}/{CSV_COLUMN} has only {len(rows)} answers"
    rows = rows.sample(n=N_ANSWERS, random_state=SEED)
    export = pd.DataFrame(
        {
            "id": [f"GD{i:05d}" for i in range(1, N_ANSWERS + 1)],
            "theme": rows["theme"].to_numpy(),
            "csv_column": rows["csv_column"].to_numpy(),
            QUESTION: rows["answer"].to_numpy(),
        }
    )
    export.to_csv(workdir / "survey.csv", index=False, encoding="utf-8", lineterminator="\n")
    return export


def _config(workdir: Path) -> AnalyseConfig:
    return AnalyseConfig(
        survey_file=workdir / "survey.csv",
        id_column="id",
        questions=[QUESTION],
        attributes=ATTRIBUTES,
        out_dir=workdir / "runs",
        database_url=f"sqlite:///{workdir / 'verbatim.db'}",
        cache_dir=workdir / "cache",
        seed=SEED,
    )


@pytest.fixture(scope="module")
def first_run(prefect_harness: None, survey: pd.DataFrame, workdir: Path) -> RunResult:
    return analyse_survey(_config(workdir))


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_the_corpus_is_there() -> None:
    assert _corpus_or_fail().stat().st_size > 1_000_000


def test_every_answer_is_accounted_for(first_run: RunResult, survey: pd.DataFrame) -> None:
    answers = _csv(first_run.folder / "answers.csv")
    assert len(answers) == N_ANSWERS, "one row per respondent"
    assert set(answers.respondent_id) == set(survey.id)
    assert set(answers.status) <= {"coded", "queued", "rejected"}
    counts = first_run.manifest["counts"][QUESTION]
    assert counts["coded"] + counts["queued"] + counts["rejected"] == N_ANSWERS
    assert answers.status.value_counts().to_dict() == {
        s: counts[s] for s in ("coded", "queued", "rejected") if counts[s]
    }
    rejected = answers[answers.status == "rejected"]
    assert (rejected.reason != "").all(), "every rejection has a reason"
    assert (answers.reason[answers.status != "rejected"] == "").all()

    text = dict(zip(survey.id, survey[QUESTION], strict=True))
    short = {rid for rid, t in text.items() if _normalised(t) in PLACEHOLDERS}
    assert len(short) >= 100, "the sample holds many 'RAS' / 'Non' / 'non concerné'"
    reason = dict(zip(answers.respondent_id, answers.reason, strict=True))
    wrong = {rid: (text[rid], reason[rid]) for rid in short if reason[rid] != "placeholder"}
    assert not wrong, f"short answers not rejected as placeholders: {list(wrong.values())[:10]}"
    assert counts["coded"] >= 0.8 * (N_ANSWERS - counts["rejected"]), "most answers with text get a theme"


def test_offsets_hold_for_every_excerpt(first_run: RunResult, workdir: Path) -> None:
    store = Store(f"sqlite:///{workdir / 'verbatim.db'}")
    answers = {a.respondent_id: a for a in store.answers(first_run.run_id)}
    excerpts = store.excerpts(first_run.run_id)
    assert len(answers) == N_ANSWERS
    assert len(excerpts) > N_ANSWERS, "answers often hold several ideas"
    per_answer: dict[str, int] = {}
    for e in excerpts:
        assert answers[e.respondent_id].text[e.start : e.end] == e.text, e.excerpt_id
        assert e.text == e.text.strip() and e.text
        per_answer[e.respondent_id] = per_answer.get(e.respondent_id, 0) + 1
    for rid, a in answers.items():
        expected = 0 if a.status == "rejected" else per_answer.get(rid, 0)
        assert a.n_excerpts == expected == per_answer.get(rid, 0), rid
        if a.status != "rejected":
            assert a.n_excerpts >= 1, rid
    coded = _csv(first_run.folder / "coded_excerpts.csv")
    assert len(coded) == len(excerpts)
    assert (coded.theme == THEME).all() and (coded.csv_column == CSV_COLUMN).all(), "attributes carried"


def test_several_readable_themes(first_run: RunResult) -> None:
    themes = _csv(first_run.folder / "themes.csv")
    coded = pd.read_csv(first_run.folder / "coded_excerpts.csv", dtype={"theme_id": int, "score": float})
    assert 4 <= len(themes) <= 60, f"{len(themes)} themes"
    labels = themes.label.str.strip()
    assert (labels.str.len() > 0).all(), "every theme has a label"
    assert labels.is_unique, f"labels given twice: {labels[labels.duplicated()].tolist()}"
    assert (themes.representative_excerpts.str.len() > 0).all()
    sizes = coded[coded.theme_id >= 0].theme_id.value_counts()
    assert sizes.to_dict() == dict(zip(themes.theme_id.astype(int), themes.n_excerpts.astype(int), strict=True))
    coverage = (coded.theme_id >= 0).mean()
    assert coverage >= 0.8, f"only {coverage:.0%} of the excerpts have a theme"
    assert coded.score.between(0, 1).all()


def test_same_seed_gives_identical_files(first_run: RunResult, workdir: Path, tmp_path: Path) -> None:
    """A re-run with the themes fitted again (embeddings from the cache, as a researcher's re-run has them;
    ``bench/flow_speed.py`` compares a run with fresh embeddings to one from the cache on 9,000 answers). The cache of
    fitted themes is left out: with it the re-run would read the first run's themes, and prove nothing."""
    cache = cache_without_fitted_themes(workdir / "cache", tmp_path / "cache")
    second = analyse_survey(_config(workdir).model_copy(update={"cache_dir": cache}))
    assert not second.manifest["counts"][QUESTION]["themes_from_cache"]
    assert second.run_id != first_run.run_id
    for name in ("coded_excerpts.csv", "themes.csv", "answers.csv"):
        a = _csv(first_run.folder / name).drop(columns="run_id", errors="ignore")
        b = _csv(second.folder / name).drop(columns="run_id", errors="ignore")
        pd.testing.assert_frame_equal(a, b, obj=name)
    manifests = [json.loads((r.folder / "manifest.json").read_text(encoding="utf-8")) for r in (first_run, second)]
    assert manifests[0]["counts"] == manifests[1]["counts"]
    assert manifests[0]["input"]["sha256"] == manifests[1]["input"]["sha256"]
