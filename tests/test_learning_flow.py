"""Learning from decisions end to end: a real run of the sample survey, researchers' decisions, recode, new answers
coded into the codebook, and the decision sheet through LibreOffice. One Prefect harness for all."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import SAMPLE, SAMPLE_CP1252
from verbatim.flows.analyse import RunResult, analyse_survey
from verbatim.flows.config import AnalyseConfig
from verbatim.flows.learning import CodeConfig, RecodeConfig, code_new_answers, recode_run
from verbatim.formats.decision_sheet import export_decisions, import_decisions
from verbatim.formats.run_folder import CODED_EXCERPT_COLUMNS
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.machine_codes import latest_version, review_order, training_labels
from verbatim.models.review import DecisionKind, ReviewStatus
from verbatim.models.store import Store
from verbatim.models.tables import DecisionRow

pytestmark = pytest.mark.slow

ATTRIBUTES = ["profession", "structure", "region", "anciennete"]
QUESTIONS = ["difficultes", "idees"]
Q = "difficultes"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("learning")


def _db(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'verbatim.db'}"


@pytest.fixture(scope="module")
def run(prefect_harness: None, workdir: Path) -> RunResult:
    config = AnalyseConfig(
        survey_file=SAMPLE, id_column="id", questions=QUESTIONS, attributes=ATTRIBUTES, out_dir=workdir / "runs",
        database_url=_db(workdir), cache_dir=workdir / "cache",
    )  # fmt: skip
    return analyse_survey(config)


def _decisions(store: Store) -> list[tuple[object, ...]]:
    with store.session() as s:
        rows = s.scalars(select(DecisionRow).order_by(DecisionRow.id)).all()
        return [(r.id, r.run_id, r.kind, r.coder, r.excerpt_id, r.theme_id, r.to_theme_id, r.text) for r in rows]


@pytest.fixture(scope="module")
def reviewed(run: RunResult, workdir: Path) -> dict[str, object]:
    """Two researchers review 'difficultes': accept, recode, reject, merge two themes, split one."""
    store = Store(_db(workdir))
    log = DecisionLog(store)
    for name in ("alice", "bob"):
        log.add_user(name, Role.RESEARCHER, "x")
    state = log.state(run.run_id, Q)
    themes = [t.theme_id for t in state.active_themes()]
    by_theme = {t: state.excerpts_of(t) for t in themes}
    merged, into, split_from = themes[-1], themes[-2], themes[0]
    log.merge(run.run_id, Q, "alice", merged, into)
    new = log.create_theme(run.run_id, Q, "bob", "Mots de passe et identifiants", split_from, by_theme[split_from][:6])
    for t in themes[:-1]:
        for e in by_theme[t][6:12] if t == split_from else by_theme[t][:6]:
            log.decide(run.run_id, Q, DecisionKind.ACCEPT, "alice", excerpt_id=e, theme_id=t)
    recoded = by_theme[themes[1]][6:9]
    for e in recoded:
        log.decide(run.run_id, Q, DecisionKind.RECODE, "bob", excerpt_id=e, to_theme_id=themes[2])
    rejected = by_theme[themes[2]][-2:]
    for e in rejected:
        log.decide(run.run_id, Q, DecisionKind.REJECT, "bob", excerpt_id=e)
    return {"merged": merged, "into": into, "new": new, "recoded": recoded, "rejected": rejected, "themes": themes}


@pytest.fixture(scope="module")
def recoded(run: RunResult, reviewed: dict[str, object], workdir: Path) -> dict[str, object]:
    store = Store(_db(workdir))
    log = DecisionLog(store)
    before = {
        "decisions": _decisions(store),
        "codes": {q: log.state(run.run_id, q).codes for q in QUESTIONS},
        "v1": sorted((c.excerpt_id, c.theme_id, c.score) for c in store.machine_codings(run.run_id, 1)),
    }
    result = recode_run(RecodeConfig(run_id=run.run_id, database_url=_db(workdir)))
    # Read right after the recode: later tests of this module add decisions of their own, in any order.
    after = {"decisions": _decisions(store), "codes": {q: log.state(run.run_id, q).codes for q in QUESTIONS}}
    return {"before": before, "after": after, "result": result}


def test_classifier_classes_are_the_current_themes(run: RunResult, reviewed: dict, recoded: dict, workdir: Path):  # type: ignore[no-untyped-def]
    summary = next(q for q in recoded["result"].questions if q.question == Q)
    assert summary.method == "classifier"
    log = DecisionLog(Store(_db(workdir)))
    active = {t.theme_id for t in log.state(run.run_id, Q).active_themes()}
    assert reviewed["merged"] not in summary.classes, "a merged theme is no class of its own"
    assert reviewed["new"] in summary.classes, "the split theme is learnt"
    assert -1 in summary.classes, "rejected excerpts teach the queue"
    assert set(summary.classes) - {-1} <= active
    labels = training_labels(log.state(run.run_id, Q))
    assert summary.n_examples == len(labels)


def test_recode_writes_version_2_and_keeps_every_decision(run: RunResult, recoded: dict, workdir: Path) -> None:
    store = Store(_db(workdir))
    result = recoded["result"]
    assert (result.previous_version, result.version) == (1, 2) and latest_version(store, run.run_id) == 2
    assert recoded["after"]["decisions"] == recoded["before"]["decisions"], "no decision changed, added or lost"
    v1 = sorted((c.excerpt_id, c.theme_id, c.score) for c in store.machine_codings(run.run_id, 1))
    assert v1 == recoded["before"]["v1"], "version 1 still readable, unchanged"
    v2 = store.machine_codings(run.run_id, 2)
    assert len(v2) == len(v1) == len(store.excerpts(run.run_id))
    for q in QUESTIONS:
        after = recoded["after"]["codes"][q]
        for e, old in recoded["before"]["codes"][q].items():
            if old.status in (ReviewStatus.ACCEPTED, ReviewStatus.RECODED, ReviewStatus.REJECTED):
                assert (after[e].status, after[e].theme_id) == (old.status, old.theme_id), e
    scores = {c.excerpt_id: c.score for c in v2}
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    summary = next(q for q in result.questions if q.question == Q)
    assert sum(c.after for c in summary.changes) == sum(c.before for c in summary.changes)
    assert summary.n_changed == sum(c.lost for c in summary.changes)
    other = next(q for q in result.questions if q.question == "idees")
    assert other.method.startswith("unchanged"), "no decision on 'idees': its codes stay"


def test_review_order_after_recode(run: RunResult, recoded: dict, workdir: Path) -> None:
    store = Store(_db(workdir))
    order = review_order(store, run.run_id, Q, 10)
    state = DecisionLog(store).state(run.run_id, Q)
    assert len(order) == 10 and len({c.excerpt_id for c in order}) == 10
    assert all(state.codes[c.excerpt_id].status in (ReviewStatus.MACHINE, ReviewStatus.QUEUED) for c in order)
    assert len({c.theme_id for c in order}) >= 3, "diverse across themes"


def test_code_new_answers_into_the_codebook(run: RunResult, recoded: dict, workdir: Path) -> None:
    config = CodeConfig(
        survey_file=SAMPLE_CP1252, codebook_run_id=run.run_id, id_column="id", questions=QUESTIONS,
        attributes=ATTRIBUTES, out_dir=workdir / "runs", database_url=_db(workdir), cache_dir=workdir / "cache",
    )  # fmt: skip
    result = code_new_answers(config)
    assert result.run_id != run.run_id
    names = sorted(p.name for p in result.folder.iterdir())
    assert names == ["answers.csv", "candidate_themes.csv", "coded_excerpts.csv", "manifest.json", "themes.csv"]
    manifest = json.loads((result.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["codebook_run_id"] == run.run_id and manifest["codebook_machine_version"] == 2
    assert manifest["coding"][Q]["method"] == "classifier" and manifest["coding"]["idees"]["method"] == "centroids"
    coded = pd.read_csv(result.folder / "coded_excerpts.csv", dtype=str, keep_default_na=False)
    assert list(coded.columns) == [*CODED_EXCERPT_COLUMNS, *ATTRIBUTES]
    themes = pd.read_csv(result.folder / "themes.csv", dtype=str, keep_default_na=False)
    log = DecisionLog(Store(_db(workdir)))
    current = {t.theme_id: t.label for t in log.state(run.run_id, Q).active_themes()}
    mine = themes[themes.question == Q]
    assert dict(zip(mine.theme_id.astype(int), mine.label, strict=True)) == current, "the codebook as it stands"
    assert "Mots de passe et identifiants" in set(mine.label)
    families = {t: f.label for f, ts in log.state(run.run_id, Q).active_families() for t in [x.theme_id for x in ts]}
    new = log.state(result.run_id, Q)
    assert {t.theme_id: new.family_of(t.theme_id).label for t in new.active_themes()} == families  # type: ignore[union-attr]
    ids = set(coded[coded.question == Q].theme_id.astype(int))
    assert ids - {-1} <= set(current)
    candidates = pd.read_csv(result.folder / "candidate_themes.csv", dtype=str, keep_default_na=False)
    assert list(candidates.columns)[:3] == ["question", "candidate_id", "label"]
    for _, c in candidates.iterrows():
        members = c.excerpt_ids.split()
        assert len(members) >= 5 and set(coded.set_index("excerpt_id").loc[members].theme_id) == {"-1"}
    answers = pd.read_csv(result.folder / "answers.csv", dtype=str, keep_default_na=False)
    assert len(answers) == 2 * manifest["input"]["rows"], "every answer accounted for"
    store = Store(_db(workdir))
    assert store.run(result.run_id).manifest["codebook_run_id"] == run.run_id
    assert len(store.excerpts(result.run_id)) == len(coded)
    text = " ".join(coded.excerpt)
    assert "é" in text and "Ã" not in text


def test_decision_sheet_round_trip_on_the_real_run(run: RunResult, recoded: dict, workdir: Path) -> None:
    store = Store(_db(workdir))
    log = DecisionLog(store)
    log.add_user("chloe", Role.RESEARCHER, "x")
    path = workdir / "sheet.xlsx"
    n = export_decisions(store, run.run_id, path)
    assert n == len(store.excerpts(run.run_id))
    state = log.state(run.run_id, "idees")
    target = state.active_themes()[1].label
    book = load_workbook(path)
    sheet = book["Décisions"]
    header = [c.value for c in sheet[1]]
    col = {name: header.index(name) for name in header}
    rows = [r for r in sheet.iter_rows(min_row=2) if r[col["question"]].value == "idees"]
    changed = []
    for r in rows[:5]:
        if r[col["theme"]].value != target:
            r[col["code"]].value = target
            changed.append(r[col["excerpt_id"]].value)
    rows[5][col["code"]].value = "(rejeter)"
    rows[6][col["code"]].value = "Pas un thème"  # broken
    rows[7][col["excerpt"]].value = "texte changé"  # broken
    book.save(path)
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice Calc is needed (apt-get install libreoffice-calc-nogui)"
    profile = f"-env:UserInstallation=file://{workdir / 'lo-profile'}"
    subprocess.run(
        [soffice, profile, "--headless", "--convert-to", "ods", "--outdir", str(workdir / "ods"), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    subprocess.run(
        [soffice, profile, "--headless", "--convert-to", "xlsx", "--outdir", str(workdir / "back"),
         str(workdir / "ods" / "sheet.ods")],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    before = len(_decisions(store))
    report = import_decisions(store, run.run_id, workdir / "back" / "sheet.xlsx", "chloe")
    assert [p.row for p in report.problems] == [rows[6][0].row, rows[7][0].row]
    assert report.counts()["recode"] == len(changed) and report.counts()["reject"] == 1
    assert len(_decisions(store)) == before + len(changed) + 1
    codes = log.state(run.run_id, "idees").codes
    assert all(codes[e].status == ReviewStatus.RECODED and codes[e].decided_by == "chloe" for e in changed)


def test_cli_commands(run: RunResult, recoded: dict, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from verbatim.cli.learning import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    register(app)
    monkeypatch.setenv("VERBATIM_DATABASE_URL", _db(workdir))
    runner = CliRunner()
    out = workdir / "cli.xlsx"
    result = runner.invoke(app, ["decisions", "export", run.run_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["decisions", "import", run.run_id, str(out), "--as", "nobody"])
    assert result.exit_code == 0 and "0 recodes" in result.output, "an unchanged sheet records nothing"
    result = runner.invoke(app, ["recode", "no-such-run"])
    assert result.exit_code == 2 and "not found" in result.output
