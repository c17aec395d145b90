"""Learning from decisions, piece by piece: the classifier, the review order, machine versions, the decision sheet."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from verbatim.formats.decision_sheet import REJECT, export_decisions, import_decisions
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.machine_codes import (
    ReviewCandidate,
    latest_version,
    rank_for_review,
    review_order,
    save_machine_version,
    training_labels,
    version_changes,
)
from verbatim.models.records import Answer, AnswerStatus, Coding, Excerpt, Respondent, Theme
from verbatim.models.review import DecisionKind, ReviewStatus
from verbatim.models.store import Store
from verbatim.models.tables import DecisionRow
from verbatim.nlp.learning import QUEUE, CentroidCoder, CodeClassifier, candidate_themes, training_set

RUN, Q = "run-1", "difficultes"


# -- the classifier ----------------------------------------------------------------------------------------------------
def _blobs(n_per: int = 40, k: int = 3, spread: float = 0.35, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.eye(k, 16)
    x = np.vstack([c + spread * rng.normal(size=(n_per, 16)) for c in centres])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), np.repeat(np.arange(k), n_per)


def test_classifier_learns_themes_and_calibrates() -> None:
    x, y = _blobs()
    model = CodeClassifier(seed=1).fit(x, y)
    assert model.classes_.tolist() == [0, 1, 2]
    assert model.temperature_ > 0
    test_x, test_y = _blobs(seed=1)
    prediction = model.predict(test_x)
    assert (prediction.labels == test_y).mean() > 0.9
    assert ((prediction.scores >= 0) & (prediction.scores <= 1)).all()
    np.testing.assert_allclose(prediction.proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (prediction.runner_up != prediction.labels).all()
    # calibrated: mean confidence close to accuracy on held-out data
    coded = prediction.labels != QUEUE
    assert abs(prediction.scores[coded].mean() - (prediction.labels == test_y)[coded].mean()) < 0.1


def test_low_probability_and_rejected_examples_go_to_the_queue() -> None:
    x, y = _blobs(k=2)
    strict = CodeClassifier(min_probability=0.999).fit(x, y).predict(x)
    assert (strict.labels == QUEUE).any() and (strict.runner_up[strict.labels == QUEUE] >= 0).all()
    x3, y3 = _blobs(k=3)
    y3 = np.where(y3 == 2, QUEUE, y3)  # the third group was rejected by researchers: it teaches "queue"
    model = CodeClassifier().fit(x3, y3)
    assert model.classes_.tolist() == [QUEUE, 0, 1]
    assert (model.predict(x3[y3 == QUEUE]).labels == QUEUE).mean() > 0.8


def test_training_set_weighs_the_machine_codes_as_weak_evidence() -> None:
    x, y = _blobs()
    tx, ty, w = training_set(x[:5], y[:5], x[5:], y[5:], prior_weight=0.1)
    assert len(tx) == len(x) and ty.tolist() == y.tolist()
    assert w[:5].tolist() == [1.0] * 5 and np.allclose(w[5:], 0.1)


def test_centroid_coder_queues_what_fits_no_theme() -> None:
    x, y = _blobs(spread=0.1)
    coder = CentroidCoder().fit(x, y)
    far = np.zeros((1, 16), dtype=np.float32)
    far[0, 10] = 1.0
    prediction = coder.predict(np.vstack([x[:3], far]))
    assert prediction.labels.tolist() == [0, 0, 0, QUEUE]
    assert prediction.runner_up[-1] in (0, 1, 2)


def test_candidate_themes_group_queued_excerpts_with_a_label() -> None:
    x, y = _blobs(n_per=12, k=3, spread=0.1)
    lemmas = [("mot", "passe") if t == 1 else ("réseau", "visite") if t == 2 else ("outil",) for t in y]
    surfaces = [("mots", "passe") if t == 1 else ("réseau", "visite") if t == 2 else ("outils",) for t in y]
    texts = [" ".join(s) for s in surfaces]
    queued = y > 0  # groups 1 and 2 fit no theme
    found = candidate_themes(x, lemmas, texts, [f"R{i}" for i in range(len(y))], queued, min_size=5)
    assert len(found) == 2
    assert {frozenset(y[list(c.members)].tolist()) for c in found} == {frozenset({1}), frozenset({2})}
    assert {c.label.split(",")[0].split()[0] for c in found} <= {"Mots", "Réseau", "Visite", "Passe"}
    assert all(c.n_respondents == 12 and len(c.representatives) == 5 for c in found)


# -- review order ------------------------------------------------------------------------------------------------------
def test_rank_for_review_least_confident_first_across_themes() -> None:
    candidates = [
        ReviewCandidate("a1", 0, 0.2), ReviewCandidate("a2", 0, 0.1), ReviewCandidate("a3", 0, 0.15),
        ReviewCandidate("b1", 1, 0.9), ReviewCandidate("b2", 1, 0.6), ReviewCandidate("q1", QUEUE, 0.3),
    ]  # fmt: skip
    order = [c.excerpt_id for c in rank_for_review(candidates, 5)]
    assert order == ["q1", "a2", "b2", "a3", "b1"]
    assert len(rank_for_review(candidates, 100)) == len(candidates)


# -- a small run in a real store ---------------------------------------------------------------------------------------
def _run(store: Store) -> None:
    texts = [
        "Trop d'outils différents.", "Pas de réseau en visite.", "Logiciels trop lents.", "Manque de formation.",
        "Formation insuffisante.", "Les usagers sans ordinateur.", "Dossiers perdus par la CAF.", "Rien de clair.",
    ]  # fmt: skip
    respondents = [Respondent(respondent_id=f"R{i}", row=i, attributes={}) for i in range(1, 9)]
    answers = [
        Answer(question=Q, respondent_id=f"R{i}", row=i, text=t, status=AnswerStatus.CODED)
        for i, t in enumerate(texts, start=1)
    ]
    excerpts = [
        Excerpt(excerpt_id=f"E{i}", question=Q, respondent_id=f"R{i}", start=0, end=len(t), text=t)
        for i, t in enumerate(texts, start=1)
    ]
    themes = [
        Theme(question=Q, theme_id=t, label=label, description="", keywords=("mot",), n_excerpts=2, n_respondents=2,
              representative_excerpt_ids=("E1",))
        for t, label in enumerate(["Outils, logiciels", "Formation", "Usagers, CAF"])
    ]  # fmt: skip
    machine = [0, 0, 0, 1, 1, 2, 2, -1]
    codings = [Coding(excerpt_id=f"E{i + 1}", theme_id=t, score=0.5 + 0.05 * i) for i, t in enumerate(machine)]
    manifest = {"input": {"file_name": "s.csv", "sha256": "0" * 64}, "parameters": {"seed": 1, "questions": [Q]},
                "encoder": {"id": "x", "spec": "use"}}  # fmt: skip
    store.save_run(RUN, manifest, respondents, answers, {}, excerpts, themes, codings)


@pytest.fixture
def log(tmp_path: Path) -> DecisionLog:
    store = Store(f"sqlite:///{tmp_path / 'v.db'}")
    _run(store)
    log = DecisionLog(store)
    log.add_user("alice", Role.RESEARCHER, "x")
    log.add_user("bob", Role.RESEARCHER, "x")
    return log


def _decision_rows(store: Store) -> list[tuple[object, ...]]:
    with store.session() as s:
        rows = s.scalars(select(DecisionRow).order_by(DecisionRow.id)).all()
        return [(r.id, r.kind, r.coder, r.excerpt_id, r.theme_id, r.to_theme_id, r.text, r.undoes_id) for r in rows]


def test_training_labels_follow_merges_and_splits(log: DecisionLog) -> None:
    log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E4", theme_id=1)
    log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1", theme_id=0)
    log.merge(RUN, Q, "alice", 1, 0)  # "Formation" goes into theme 0
    new = log.create_theme(RUN, Q, "bob", "Réseau", parent_theme_id=0, excerpt_ids=["E2"])
    log.decide(RUN, Q, DecisionKind.REJECT, "bob", excerpt_id="E8")
    labels = training_labels(log.state(RUN, Q))
    assert labels == {"E1": 0, "E2": new, "E4": 0, "E8": QUEUE}
    active = {t.theme_id for t in log.state(RUN, Q).active_themes()}
    assert set(labels.values()) - {QUEUE} <= active and 1 not in active


def test_new_machine_version_keeps_decisions_and_old_versions(log: DecisionLog) -> None:
    store = log.store
    log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1")  # an accept without a theme
    log.decide(RUN, Q, DecisionKind.RECODE, "alice", excerpt_id="E6", to_theme_id=1)
    before = _decision_rows(store)
    state = log.state(RUN, Q)
    codings = [
        Coding(excerpt_id=e, theme_id=(c.theme_id if c.status != ReviewStatus.MACHINE else 2), score=0.9)
        for e, c in state.codes.items()
    ]
    assert save_machine_version(store, RUN, codings) == 2
    assert latest_version(store, RUN) == 2
    assert _decision_rows(store) == before
    assert {c.excerpt_id: c.theme_id for c in store.machine_codings(RUN, 1)}["E2"] == 0, "version 1 readable"
    after = log.state(RUN, Q)
    assert after.codes["E1"].theme_id == 0 and after.codes["E1"].status == ReviewStatus.ACCEPTED
    assert after.codes["E6"].theme_id == 1
    changes = {c.theme_id: c for c in version_changes(store, RUN, Q, 1, 2)}
    assert changes[2].gained == 4  # E2, E3, E4, E5 moved to theme 2
    assert (changes[0].lost, changes[1].lost, changes[1].gained, changes[2].lost) == (2, 2, 1, 1)  # E6 recoded
    assert changes[-1].lost == 0  # E8 stays queued
    with pytest.raises(Exception, match="must code all"):
        save_machine_version(store, RUN, codings[:3])


def test_review_order_skips_decided_excerpts(log: DecisionLog) -> None:
    log.decide(RUN, Q, DecisionKind.ACCEPT, "alice", excerpt_id="E1", theme_id=0)
    order = review_order(log.store, RUN, Q, 4)
    ids = [c.excerpt_id for c in order]
    assert "E1" not in ids and ids[0] == "E8", "the queue first, then the least confident of each theme"
    assert ids[1:] == ["E2", "E4", "E6"]


# -- the decision sheet ------------------------------------------------------------------------------------------------
def _edit(path: Path, edits: dict[str, dict[str, object]]) -> None:
    book = load_workbook(path)
    sheet = book["Décisions"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        excerpt_id = row[header.index("excerpt_id")].value
        for column, value in edits.get(str(excerpt_id), {}).items():
            row[header.index(column)].value = value
    book.save(path)


def test_sheet_has_one_row_per_excerpt_and_a_theme_drop_down(log: DecisionLog, tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    assert export_decisions(log.store, RUN, path) == 8
    book = load_workbook(path)
    sheet, lists = book["Décisions"], book["Thèmes"]
    assert lists.sheet_state == "hidden"
    assert [c.value for c in lists["A"]][1:] == ["Outils, logiciels", "Formation", "Usagers, CAF", REJECT]
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 1 and validations[0].type == "list"
    assert "Thèmes" in str(validations[0].formula1) and str(validations[0].sqref) == "H2:H9"
    header = [c.value for c in sheet[1]]
    assert header[:8] == ["excerpt_id", "question", "respondent_id", "excerpt", "answer", "theme", "status", "code"]


def test_sheet_import_records_changed_rows_and_reports_broken_ones(log: DecisionLog, tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    export_decisions(log.store, RUN, path)
    _edit(
        path,
        {
            "E1": {"code": "Formation"},  # recode
            "E2": {"code": REJECT},  # reject
            "E3": {"accept": "x"},  # accept as is
            "E4": {"code": "Thème inexistant"},  # unknown label
            "E5": {"excerpt": "Texte modifié."},  # edited text
            "E6": {"question": "idees", "code": "Formation"},  # wrong question
            "E7": {"excerpt_id": "E99", "code": "Formation"},  # unknown excerpt
        },
    )
    before = _decision_rows(log.store)
    dry = import_decisions(log.store, RUN, path, "alice", dry_run=True)
    assert _decision_rows(log.store) == before and not dry.recorded
    report = import_decisions(log.store, RUN, path, "alice")
    assert report.counts() == {"recode": 1, "reject": 1, "accept": 1, "unchanged": 1, "refused": 4}
    problems = {p.row: p.reason for p in report.problems}
    assert set(problems) == {5, 6, 7, 8}
    assert "unknown theme 'Thème inexistant'" in problems[5] and "edited" in problems[6]
    assert "belongs to 'difficultes'" in problems[7] and "unknown excerpt id 'E99'" in problems[8]
    codes = log.state(RUN, Q).codes
    assert (codes["E1"].status, codes["E1"].theme_id, codes["E1"].decided_by) == (ReviewStatus.RECODED, 1, "alice")
    assert codes["E2"].status == ReviewStatus.REJECTED and codes["E3"].status == ReviewStatus.ACCEPTED
    for e in ("E4", "E5", "E6", "E7"):
        assert codes[e].status == ReviewStatus.MACHINE, e
    assert len(_decision_rows(log.store)) == len(before) + 3


def test_sheet_round_trip_through_libreoffice(log: DecisionLog, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice Calc is needed (apt-get install libreoffice-calc-nogui)"
    path = tmp_path / "d.xlsx"
    export_decisions(log.store, RUN, path)
    _edit(path, {"E4": {"code": "Usagers, CAF"}, "E8": {"code": "Formation"}, "E5": {"accept": "oui"}})
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    for target, source in (("ods", path), ("xlsx", tmp_path / "ods" / "d.ods")):
        subprocess.run(
            [soffice, profile, "--headless", "--convert-to", target, "--outdir", str(tmp_path / target), str(source)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    resaved = tmp_path / "xlsx" / "d.xlsx"
    book = load_workbook(resaved)
    assert "Thèmes" in book.sheetnames and book["Décisions"].data_validations.dataValidation, "drop-down kept"
    report = import_decisions(log.store, RUN, resaved, "bob")
    assert report.problems == [] and report.counts()["recode"] == 2 and report.counts()["accept"] == 1
    codes = log.state(RUN, Q).codes
    assert codes["E4"].theme_id == 2 and codes["E8"].theme_id == 1 and codes["E5"].status == ReviewStatus.ACCEPTED
