"""No personal data planted in a survey is written anywhere by a whole run: run folder, database, caches, Prefect."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from verbatim.flows.analyse import RunResult, analyse_survey
from verbatim.flows.config import AnalyseConfig, PseudonymisationConfig

PLANTED_ROWS = [
    "J'ai accompagné Mme Jocelyne Vasseur-Bartholdi, joignable au 06 47 23 81 95, pour son dossier CAF.",
    "Le fils de M. Kowalczyk nous écrit sur jocelyne.bartholdi@exemple.fr ; il habite 14 rue des Capucins à Lille.",
    "Son NIR 2 85 07 75 123 456 78 et son IBAN FR76 3000 6000 0112 3456 7890 189 circulent par mail, sans sécurité.",
    "Numéro allocataire CAF 7654321, née le 12/03/1985 : tout passe par le site, avec Rodrigue Ndiaye à côté.",
]
SECRETS = [
    "Vasseur", "Bartholdi", "Kowalczyk", "Jocelyne", "Rodrigue", "Ndiaye", "06 47 23 81 95", "0647238195",
    "jocelyne.bartholdi@exemple.fr", "exemple.fr", "14 rue des Capucins", "2 85 07 75 123 456 78",
    "FR76 3000 6000 0112", "7654321", "12/03/1985",
]  # fmt: skip
KEPT = ["CAF", "Lille"]  # institutions and cities are the substance of answers: never masked


def _planted_survey(tmp: Path) -> Path:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header, body = rows[0], rows[1:80]
    column = header.index("difficultes")
    for i, text in enumerate(PLANTED_ROWS):
        body[i][column] = text
    path = tmp / "planted.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerows([header, *body])
    return path


def _run(tmp: Path, keep_original: bool) -> RunResult:
    return analyse_survey(
        AnalyseConfig(
            survey_file=_planted_survey(tmp),
            id_column="id",
            questions=["difficultes"],
            attributes=["profession", "region"],
            out_dir=tmp / "runs",
            database_url=f"sqlite:///{tmp / 'db' / 'verbatim.db'}",
            cache_dir=tmp / "cache",
            pseudonymisation=PseudonymisationConfig(keep_original=keep_original),
        )
    )


def _written_files(tmp: Path) -> list[Path]:
    return [p for p in tmp.rglob("*") if p.is_file() and p.name != "planted.csv"]


def _prefect_database() -> Path:
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    APILogWorker.drain_all(timeout=10)  # logs are sent to the server in batches
    return Path(str(PREFECT_API_DATABASE_CONNECTION_URL.value()).split(":///", 1)[1])


def _leaks(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        data = path.read_bytes()
        found += [f"{path.name}: {s}" for s in SECRETS if s.encode("utf-8") in data]
    return found


def test_no_planted_personal_data_is_written_anywhere(
    prefect_harness: None, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = _run(tmp_path, keep_original=False)
    files = _written_files(tmp_path)
    assert {
        "coded_excerpts.csv",
        "themes.csv",
        "answers.csv",
        "manifest.json",
        "verbatim.db",
        "embeddings.sqlite",
        "masks.sqlite",
    } <= {p.name for p in files}
    prefect_db = _prefect_database()
    prefect_files = [p for p in prefect_db.parent.iterdir() if p.name.startswith(prefect_db.name)]
    prefect_bytes = b"".join(p.read_bytes() for p in prefect_files)
    assert b"pseudonymised" in prefect_bytes and b"verbatim-run-summary" in prefect_bytes, (
        "logs and artifacts are there"
    )
    assert _leaks(files + prefect_files) == []
    output = capfd.readouterr()
    assert [s for s in SECRETS if s in output.out + output.err] == [], "nothing in the logs either"
    # The masks are there instead, counted in the manifest, and what must stay stayed.
    answers = (result.folder / "coded_excerpts.csv").read_text(encoding="utf-8")
    for placeholder in ("[PERSONNE]", "[TÉLÉPHONE]", "[EMAIL]", "[ADRESSE]", "[NUMÉRO]"):
        assert placeholder in answers
    assert all(k in answers for k in KEPT)
    masks = result.manifest["masks"]
    assert masks["PERSONNE"] >= 3 and masks["EMAIL"] >= 1 and masks["TÉLÉPHONE"] >= 1 and masks["NUMÉRO"] >= 3


def test_keep_original_goes_to_the_store_only(prefect_harness: None, tmp_path: Path) -> None:
    result = _run(tmp_path, keep_original=True)
    assert _leaks(list(result.folder.iterdir())) == [], "never in the run folder"
    assert _leaks(list((tmp_path / "cache").rglob("*.sqlite"))) == [], "never in the caches"
    with sqlite3.connect(tmp_path / "db" / "verbatim.db") as db:
        originals = [r[0] for r in db.execute("SELECT original_text FROM answers WHERE original_text IS NOT NULL")]
        texts = " ".join(r[0] for r in db.execute("SELECT text FROM answers"))
    assert any("Vasseur-Bartholdi" in o for o in originals), "kept, in its own column"
    assert "Vasseur" not in texts
