"""The export building blocks on small made-up data: cells, sheet names, offsets, quote choice."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from verbatim.formats.exports.cells import neutralise_csv, sheet_names, staged_folder, write_atomically
from verbatim.formats.exports.citations import attribution, choose_quotes, jaccard, shingles, trim
from verbatim.formats.exports.data import ExcerptView, QuestionView, RunView, ThemeView
from verbatim.formats.exports.refi_qda import source_text
from verbatim.models.decisions import QuestionState
from verbatim.models.review import CurrentCode, ReviewStatus, ThemeState


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SOMME(A1)", "'=SOMME(A1)"),
        ("+33 rien", "'+33 rien"),
        ("@cmd", "'@cmd"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("-2+3", "'-2+3"),
        ("- pas de temps\n- pas d'outil", "– pas de temps\n- pas d'outil"),
        ("-\nitem", "–\nitem"),
        ("Pas de souci = ok", "Pas de souci = ok"),
        ("", ""),
    ],
)
def test_neutralise_csv(value: str, expected: str) -> None:
    assert neutralise_csv(value) == expected


def test_sheet_names_are_valid_and_unique() -> None:
    long = "Quelles difficultés rencontrez-vous au quotidien avec le numérique ?"
    names = sheet_names([long, long, "a/b:c*d?[e]\\f", "CODEBOOK", "'quoted'", "History", ""], reserved=["Codebook"])
    assert all(len(n) <= 31 for n in names)
    assert all(not set(n) & set("[]:*?/\\") for n in names)
    assert len({n.casefold() for n in names} | {"codebook"}) == len(names) + 1
    assert names[0] == long[:31] and names[1].endswith(" (2)")
    assert names[2] == "a_b_c_d__e__f" and names[3] == "CODEBOOK (2)" and names[4] == "quoted"
    assert names[5] != "History" and names[6]


def test_atomic_writes_leave_nothing_on_failure(tmp_path: Path) -> None:
    def boom(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(tmp_path / "x.csv", boom)
    with pytest.raises(RuntimeError), staged_folder(tmp_path / "report") as staging:
        (staging / "report.md").write_text("half")
        raise RuntimeError("chart failed")
    assert list(tmp_path.iterdir()) == []


def test_source_text_maps_offsets_through_crlf_and_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Télé")  # 6 code points, 4 once composed
    answer = f"Ligne 1\r\n{decomposed} en panne.\r\nFin"
    spans = [(0, 7), (9, 9 + len(decomposed) + len(" en panne.")), (len(answer) - 3, len(answer))]
    text, mapping = source_text(answer, spans)
    assert "\r" not in text and unicodedata.is_normalized("NFC", text)
    assert [text[mapping[a] : mapping[b]] for a, b in spans] == ["Ligne 1", "Télé en panne.", "Fin"]


def test_trim_cuts_at_sentence_then_word() -> None:
    sentence = "Les démarches en ligne excluent les personnes âgées. "
    text, trimmed = trim(sentence * 10, 300)
    assert trimmed and text.endswith("âgées. […]") and len(text) <= 300
    text, trimmed = trim("mot " * 200, 120)
    assert trimmed and text.endswith("mot […]") and len(text) <= 120
    assert trim("Court.", 300) == ("Court.", False)


def test_near_duplicates_and_attribution() -> None:
    a = shingles("On n'a pas de formation au logiciel.")
    b = shingles("On n’a pas de formation au logiciel !")
    c = shingles("Les usagers n'ont pas de forfait internet.")
    assert jaccard(a, b) > 0.8 > 0.3 > jaccard(a, c)
    attrs = {"profession": "éducatrice spécialisée", "structure": "association", "region": "Grand Est"}
    assert attribution(attrs) == "éducatrice spécialisée, association, Grand Est"
    assert attribution({**attrs, "structure": ""}, ["profession", "structure", "region"]) == (
        "éducatrice spécialisée, Grand Est"
    )


def _view(codes: list[tuple[str, str, str, ReviewStatus, float]], professions: dict[str, str]) -> RunView:
    """One question, theme 0; codes: (excerpt id, respondent, text, status, score)."""
    state = ThemeState(0, "Formation", "", "machine", None)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    excerpts = [
        ExcerptView(
            eid, "q", rid, 0, len(text), text, text,
            CurrentCode(eid, 0, status, 0, score, "alice" if status != ReviewStatus.MACHINE else None, when), 0,
        )
        for eid, rid, text, status, score in codes
    ]  # fmt: skip
    question = QuestionView(
        "q", QuestionState("run", "q", {0: state}, {}, {}, []), {0: ThemeView(state, (), 0, 0, ())}, excerpts,
        {rid: "" for _, rid, *_ in codes}, {rid: "coded" for _, rid, *_ in codes},
    )  # fmt: skip
    respondents = {rid: {"profession": p, "structure": "CCAS", "region": "Bretagne"} for rid, p in professions.items()}
    return RunView("run", when, ["profession", "structure", "region"], respondents, [question])


def test_choose_quotes_prefers_validated_diverse_quotes() -> None:
    accepted, machine = ReviewStatus.ACCEPTED, ReviewStatus.MACHINE
    run = _view(
        [
            ("e1", "R1", "On nous impose de nouveaux logiciels sans aucune formation sérieuse.", accepted, 0.9),
            ("e2", "R1", "Et la formation promise n'arrive jamais, on apprend seuls sur le tas.", accepted, 0.8),
            ("e3", "R2", "On nous impose de nouveaux logiciels sans aucune formation sérieuse !", accepted, 0.85),
            ("e4", "R3", "Personne ne nous a formés à Teams ni au partage de documents en ligne.", accepted, 0.7),
            ("e5", "R4", "Une journée de présentation pour un logiciel métier, c'est insuffisant.", accepted, 0.6),
            ("e6", "R5", "Le meilleur extrait de la machine, jamais validé par personne ici.", machine, 0.99),
        ],
        {"R1": "CESF", "R2": "CESF", "R3": "AES", "R4": "CESF", "R5": "TISF"},
    )  # fmt: skip
    choice = choose_quotes(run, run.questions[0], 0, n=3)
    ids = [q.excerpt_id for q in choice.quotes]
    assert choice.validated and "e6" not in ids, "validated first: the machine's codes only when none is"
    assert "e2" not in ids, "one quote per respondent"
    assert "e3" not in ids, "no near-duplicate"
    assert ids == ["e1", "e4", "e5"]
    assert choice.quotes[1].attribution == "AES, CCAS, Bretagne"

    fallback = _view(
        [("m1", "R1", "Une formation de deux heures pour un nouveau logiciel.", machine, 0.5)], {"R1": "AES"}
    )
    choice = choose_quotes(fallback, fallback.questions[0], 0)
    assert not choice.validated and [q.excerpt_id for q in choice.quotes] == ["m1"]
