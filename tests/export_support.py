"""What the export tests share: one real analysis of the sample survey (plus a few planted rows) and decisions.

The survey is ``data/sample_survey.csv`` with four more respondents whose answers start with ``=``, ``@``, ``+`` and
``- `` (formula neutralisation) and carry a planted e-mail address and phone number (pseudonymisation must mask
them before anything is stored; exports must never show them). The run is made once per test session, the first
time a test module asks for it, with ``keep_original=True`` so that the store also holds the unmasked answers:
exports must still never show them.
"""

from __future__ import annotations

import csv
import functools
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.conftest import SAMPLE
from verbatim.models.decisions import DecisionLog, Role
from verbatim.models.review import DecisionKind
from verbatim.models.store import Store

QUESTIONS = ["difficultes", "idees"]
ATTRIBUTES = ["profession", "structure", "region", "anciennete"]
XSD_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "refi-qda"
CODEBOOK_XSD = XSD_DIR / "Codebook.xsd"
PROJECT_XSD = XSD_DIR / "Project-mrt2019.xsd"

PLANTED_EMAIL = "camille.planquette@exemple.fr"
PLANTED_PHONE = "06 55 44 33 22"
#: Every personal detail the survey holds in its answers: none may appear in an export.
SECRETS = [
    PLANTED_EMAIL, "planquette", PLANTED_PHONE, "0655443322", "s.bernard@exemple.fr", "07 98 76 54 32",
    "06 12 34 56 78", "jean.martin@exemple.fr",
]  # fmt: skip
FORMULA_ANSWERS = {
    "R9001": "=SOMME(A1:A9) c'est tout ce qu'on fait de nos journées, des tableaux Excel pour les financeurs.",
    "R9002": "@ mon avis le logiciel de suivi plante tous les jours et on perd nos écrits professionnels.",
    "R9003": "+ de formation sur les logiciels métier, on apprend sur le tas et sans aucun accompagnement.",
    "R9004": "- pas de messagerie sécurisée pour les documents des usagers\n- le VPN est tellement lent en visite",
}
PLANTED_ANSWER = (
    f"Les usagers m'écrivent directement sur {PLANTED_EMAIL} ou m'appellent au {PLANTED_PHONE} parce que le "
    "standard ne répond jamais, je n'ai aucune messagerie sécurisée pour leurs documents."
)


def write_survey(path: Path) -> Path:
    """The sample survey plus the planted rows, in the sample's own dialect (UTF-8, ``;``)."""
    text = SAMPLE.read_text(encoding="utf-8")
    rows = [
        [rid, "conseiller·e en insertion", "association", "Bretagne", "2 à 5 ans", answer, PLANTED_ANSWER]
        for rid, answer in FORMULA_ANSWERS.items()
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(text if text.endswith("\n") else text + "\n")
        csv.writer(f, delimiter=";", lineterminator="\n").writerows(rows)
    return path


@dataclass
class Decisions:
    """What the researchers did, to check exports against."""

    accepted: list[str] = field(default_factory=list)  # difficultes, theme ``accepted_theme``, by alice
    accepted_theme: int = 0
    recoded: list[str] = field(default_factory=list)  # difficultes, to theme ``recode_target``, by bruno
    recode_target: int = 0
    rejected: list[str] = field(default_factory=list)  # by bruno
    merged_from: int = 0
    merged_into: int = 0
    renamed_label: str = ""
    split_theme: int = 0
    split_parent: int = 0
    split_label: str = ""
    split_excerpts: list[str] = field(default_factory=list)  # recoded into the new theme by bruno
    idees_accepted: list[str] = field(default_factory=list)  # idees, by alice
    family_renamed: int = 0  # difficultes: the family of ``accepted_theme`` (and of the split theme), by alice
    family_label: str = ""
    moved_theme: int = -1  # difficultes: ``recode_target`` moved into another family, by bruno
    moved_to_family: int = 0


@dataclass
class ReviewedRun:
    run_id: str
    database_url: str
    store: Store
    decisions: Decisions
    workdir: Path


def make_decisions(store: Store, run_id: str) -> Decisions:
    """Accept, recode, reject, merge, rename and split, as two researchers would."""
    log = DecisionLog(store)
    log.add_user("alice", Role.RESEARCHER, "x")
    log.add_user("bruno", Role.RESEARCHER, "x")
    d = Decisions()
    q = "difficultes"
    state = log.state(run_id, q)
    ids = [t.theme_id for t in state.active_themes()]
    a, b, c, r, m_from, m_into = ids[:6]
    d.accepted_theme, d.recode_target = a, c
    d.accepted = state.excerpts_of(a)[:6]
    for e in d.accepted:
        log.decide(run_id, q, DecisionKind.ACCEPT, "alice", excerpt_id=e, theme_id=a)
    d.recoded = state.excerpts_of(b)[:3]
    for e in d.recoded:
        log.decide(run_id, q, DecisionKind.RECODE, "bruno", excerpt_id=e, theme_id=b, to_theme_id=c)
    # The first rejected excerpt is a whole answer: that answer is then queued, whatever the machine queued.
    answer_of = {e.excerpt_id: e.respondent_id for e in store.excerpts(run_id) if e.question == q}
    excerpts_per_answer = Counter(answer_of.values())
    in_r = state.excerpts_of(r)
    whole = [e for e in in_r if excerpts_per_answer[answer_of[e]] == 1]
    assert whole, "a theme with an answer of one excerpt"
    d.rejected = [whole[0], *[e for e in in_r if e != whole[0]][:1]]
    for e in d.rejected:
        log.decide(run_id, q, DecisionKind.REJECT, "bruno", excerpt_id=e, theme_id=r)
    d.merged_from, d.merged_into = m_from, m_into
    log.merge(run_id, q, "alice", m_from, m_into)
    d.renamed_label = "Photos et scans des justificatifs"
    log.decide(run_id, q, DecisionKind.RENAME, "alice", theme_id=m_into, text=d.renamed_label)
    d.split_parent, d.split_label = a, "Connexion en visite à domicile"
    d.split_excerpts = [e for e in state.excerpts_of(a) if e not in d.accepted][:4]
    d.split_theme = log.create_theme(run_id, q, "bruno", d.split_label, a, d.split_excerpts)
    state = log.state(run_id, q)
    family = state.family_of(a)
    assert family is not None
    d.family_renamed, d.family_label = family.family_id, "Connexion et accès aux outils"
    log.rename_family(run_id, q, "alice", family.family_id, d.family_label)
    current = state.family_of(c)
    others = [f.family_id for f, _ in state.active_families() if current is None or f.family_id != current.family_id]
    moved = log.move_to_family(run_id, q, "bruno", c, others[0] if others else None, "Famille de Bruno")
    d.moved_theme, d.moved_to_family = c, int(moved.family_id or 0)
    idees = log.state(run_id, "idees")
    first = idees.active_themes()[0].theme_id
    d.idees_accepted = idees.excerpts_of(first)[:2]
    for e in d.idees_accepted:
        log.decide(run_id, "idees", DecisionKind.ACCEPT, "alice", excerpt_id=e, theme_id=first)
    return d


@functools.cache
def _reviewed_run(workdir: Path) -> ReviewedRun:
    from verbatim.flows.analyse import analyse_survey
    from verbatim.flows.config import AnalyseConfig, PseudonymisationConfig

    survey = write_survey(workdir / "survey.csv")
    url = f"sqlite:///{workdir / 'verbatim.db'}"
    saved = workdir / "reviewed-run.json"
    if saved.is_file():  # a run kept by VERBATIM_EXPORT_TEST_DIR (local iterations only)
        kept = json.loads(saved.read_text(encoding="utf-8"))
        return ReviewedRun(kept["run_id"], url, Store(url), Decisions(**kept["decisions"]), workdir)
    config = AnalyseConfig(
        survey_file=survey,
        id_column="id",
        questions=QUESTIONS,
        attributes=ATTRIBUTES,
        out_dir=workdir / "runs",
        database_url=url,
        cache_dir=workdir / "cache",
        pseudonymisation=PseudonymisationConfig(keep_original=True),
    )
    result = analyse_survey(config)
    store = Store(url)
    decisions = make_decisions(store, result.run_id)
    if os.environ.get(KEEP_ENV):
        saved.write_text(json.dumps({"run_id": result.run_id, "decisions": asdict(decisions)}), encoding="utf-8")
    return ReviewedRun(result.run_id, url, store, decisions, workdir)


_WORKDIR: list[Path] = []
#: Set to a folder to keep the reviewed run there and reuse it in later sessions (local iterations; never in CI).
KEEP_ENV = "VERBATIM_EXPORT_TEST_DIR"


def reviewed_run(tmp_path_factory: object) -> ReviewedRun:
    """The reviewed run of this test session (analysed on first use; needs the ``prefect_harness`` fixture)."""
    if not _WORKDIR:
        kept = os.environ.get(KEEP_ENV)
        if kept:
            Path(kept).mkdir(parents=True, exist_ok=True)
        _WORKDIR.append(Path(kept) if kept else tmp_path_factory.mktemp("export-run"))  # type: ignore[attr-defined]
    return _reviewed_run(_WORKDIR[0])
