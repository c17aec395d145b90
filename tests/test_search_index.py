"""The search index in the store (migration 0009): filled for the runs stored before it, kept in step when a run is
added or removed, on SQLite (FTS5) and PostgreSQL (trigram indexes). Small runs written here: fast tests."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text

from tests.postgres import Cluster
from verbatim.models.records import Answer, AnswerStatus, Coding, Excerpt, Respondent, Theme
from verbatim.models.search import search_lemmas, search_words
from verbatim.models.store import Store, migrate
from verbatim.models.tables import RunRow
from verbatim.models.transfer import copy_store

MANIFEST = {"input": {"file_name": "s.csv", "sha256": "0" * 64}, "parameters": {"seed": 1}, "encoder": {"id": "x"}}
TEXTS = {
    "a": ["Le logiciel métier plante.", "Pas de formation au logiciel.", "Mot de passe oublié, encore."],
    "b": ["La formation à distance aide.", "Un mot_de passe par site.", "Les démarches numériques."],
}


def _save(store: Store, run_id: str, texts: list[str]) -> None:
    ids = [f"R{i}" for i in range(len(texts))]
    store.save_run(
        run_id,
        MANIFEST,
        [Respondent(respondent_id=r, row=i, attributes={}) for i, r in enumerate(ids)],
        [Answer(question="q", respondent_id=r, row=i, text=t, status=AnswerStatus.CODED)
         for i, (r, t) in enumerate(zip(ids, texts, strict=True))],
        {},
        [Excerpt(excerpt_id=f"{run_id}-{r}", question="q", respondent_id=r, start=0, end=len(t), text=t,
                 lemmas=tuple(w.strip(".,").lower() for w in t.split() if len(w) > 3))
         for r, t in zip(ids, texts, strict=True)],
        [],
        [],
    )  # fmt: skip


def _found(store: Store, run_id: str, query: str) -> set[str]:
    return {h.excerpt_id for h in search_words(store, run_id, query)}


def _index_is_whole(store: Store) -> None:
    """SQLite: FTS5's own check that the index holds exactly the excerpts table's rows. PostgreSQL: both indexes
    are there (the planner picks them or not; ``LIKE`` gives the same rows either way)."""
    with store.engine.begin() as db:
        if store.engine.dialect.name == "sqlite":
            db.execute(text("INSERT INTO excerpts_search(excerpts_search, rank) VALUES ('integrity-check', 1)"))
        else:
            names = set(db.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'excerpts'")).scalars())
            assert {"excerpts_folded_trgm", "excerpts_lemmas_folded_trgm"} <= names


def test_the_index_follows_runs_added_and_removed(database_url: str, tmp_path: Path) -> None:
    store = Store(database_url)
    _save(store, "a", TEXTS["a"])
    assert _found(store, "a", "formation") == {"a-R1"}
    _save(store, "b", TEXTS["b"])  # a second run (a new wave coded into the codebook is one)
    _index_is_whole(store)
    assert _found(store, "a", "formation") == {"a-R1"} and _found(store, "b", "formation") == {"b-R0"}
    assert _found(store, "b", "mot de passe") == {"b-R1"}, "an underscore stands between words"
    assert _found(store, "b", "mot_de") == {"b-R1"} and _found(store, "b", "mot") == set()
    assert _found(store, "b", "numéri*") == {"b-R2"}
    assert {h.excerpt_id for h in search_lemmas(store, "a", ["métier"])} == {"a-R0"}
    assert {h.excerpt_id for h in search_lemmas(store, "a", ["metier"])} == {"a-R0"}, "accents ignored on lemmas"
    with store.session() as s:  # a run removed: its excerpts go, by the foreign key's cascade
        s.execute(delete(RunRow).where(RunRow.run_id == "a"))
    _index_is_whole(store)
    assert _found(store, "a", "formation") == set() and _found(store, "b", "formation") == {"b-R0"}
    _save(store, "a", TEXTS["b"])  # the same run id again, other texts: nothing of the old one is found
    _index_is_whole(store)
    assert _found(store, "a", "logiciel") == set() and _found(store, "a", "formation") == {"a-R0"}
    copy = Store(f"sqlite:///{tmp_path / 'copy.db'}")  # a store copied (or restored from a backup) is indexed whole
    copy_store(store, copy)
    _index_is_whole(copy)
    assert _found(copy, "a", "formation") == {"a-R0"} and _found(copy, "b", "numéri*") == {"b-R2"}


def test_a_store_from_before_the_index_gets_it_filled(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine, "0007")
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO runs (run_id, created_at, survey_file, input_sha256, seed, encoder, manifest) "
                "VALUES ('old', '2026-01-02 03:04:05', 's.csv', :sha, 1, 'x', '{}')"
            ),
            {"sha": "0" * 64},
        )
        db.execute(
            text(
                'INSERT INTO excerpts (run_id, excerpt_id, question, respondent_id, start, "end", text, lemmas, '
                "folded) VALUES ('old', 'E1', 'q', 'R1', 0, 22, 'Écran trop Petit.', 'écran petit', "
                "'ecran trop petit.')"
            )
        )
    engine.dispose()
    store = Store(database_url)  # upgrades to the newest revision
    _index_is_whole(store)
    assert _found(store, "old", "ECRAN") == {"E1"} and _found(store, "old", "trop petit") == {"E1"}
    assert {h.excerpt_id for h in search_lemmas(store, "old", ["ecran"])} == {"E1"}


def test_without_the_right_to_create_pg_trgm_search_scans_and_says_so(
    postgres: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """A team's account that may create tables but not extensions (no CREATE on the database): the store opens,
    the migration leaves a warning that names the fix, and search finds the same excerpts by a scan."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = f"host=127.0.0.1 port={postgres.port} user=postgres"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
        db.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'equipe') THEN "
                   "CREATE ROLE equipe LOGIN; END IF; END $$")  # fmt: skip
    with psycopg.connect(f"{admin} dbname={name}", autocommit=True) as db:
        db.execute("GRANT ALL ON SCHEMA public TO equipe")
    with caplog.at_level(logging.WARNING):
        store = Store(f"postgresql+psycopg://equipe@127.0.0.1:{postgres.port}/{name}")
    assert "pg_trgm could not be created" in caplog.text and "README" in caplog.text
    with store.engine.connect() as db:
        names = set(db.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'excerpts'")).scalars())
    assert not names & {"excerpts_folded_trgm", "excerpts_lemmas_folded_trgm"}
    _save(store, "a", TEXTS["a"])
    assert _found(store, "a", "formation") == {"a-R1"} and _found(store, "a", "mot de passe") == {"a-R2"}
    store.engine.dispose()


def test_hits_come_in_order_and_counted_whatever_order_the_store_hands_them(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store hands the candidates over in its own order (here: excerpts written last id first, two questions
    mixed) and the search counts them batch by batch as they come: the hits, the concordance and the counts come
    out in order of question, then excerpt, and whole, with batches of a single row."""
    from verbatim.models import search
    from verbatim.models.decisions import Role, User
    from verbatim.web.data import ReviewData
    from verbatim.web.search import Filters, run_search

    store = Store(database_url)
    run_id = f"o{uuid.uuid4().hex[:8]}"
    ids = [f"R{i:02d}" for i in range(12)]
    by_question = {q: [(r, f"{q} : la formation numéro {i}.") for i, r in enumerate(ids)] for q in ("qa", "qb")}
    excerpts = [Excerpt(excerpt_id=f"{q}-{r}", question=q, respondent_id=r, start=0, end=len(t), text=t,
                        lemmas=("formation",)) for q in ("qb", "qa") for r, t in reversed(by_question[q])]  # fmt: skip
    store.save_run(
        run_id,
        MANIFEST | {"parameters": {"seed": 1, "questions": ["qa", "qb"]}},
        [Respondent(respondent_id=r, row=i, attributes={"groupe": "AB"[i % 2]}) for i, r in enumerate(ids)],
        [Answer(question=q, respondent_id=r, row=i, text=t, status=AnswerStatus.CODED)
         for q, rows in by_question.items() for i, (r, t) in enumerate(rows)],
        {},
        excerpts,
        [Theme(question=q, theme_id=t, label=f"thème {t}", description="", keywords=(), n_excerpts=6,
               n_respondents=6, representative_excerpt_ids=()) for q in ("qa", "qb") for t in (0, 1)],
        [Coding(excerpt_id=e.excerpt_id, theme_id=int(e.respondent_id[1:]) % 2, score=0.9) for e in excerpts],
    )  # fmt: skip
    monkeypatch.setattr(search, "BATCH", 1)
    hits = search_words(store, run_id, "formation")
    assert [(h.question, h.excerpt_id) for h in hits] == [(q, f"{q}-{r}") for q in ("qa", "qb") for r in ids]
    found = run_search(ReviewData(store), run_id, User("admin", Role.ADMIN, ""), "formation", shown=5)
    assert [e for e, _ in found.found] == [h.excerpt_id for h in hits]
    assert [t for _, t in found.found] == [int(r[1:]) % 2 for _ in ("qa", "qb") for r in ids], "each hit its theme"
    assert [line.excerpt_id for line in found.lines] == [h.excerpt_id for h in hits[:5]]
    themes = [(n, q, f"n° {t} · thème {t}", 6) for n, q in ((1, "qa"), (2, "qb")) for t in (0, 1)]
    assert sorted(found.per_theme) == themes
    assert found.per_group == {"groupe": [("A", 12), ("B", 12)]}
    narrowed = run_search(ReviewData(store), run_id, User("admin", Role.ADMIN, ""), "formation",
                          f=Filters(number=2, theme_id=1))  # fmt: skip
    assert [e for e, _ in narrowed.found] == [f"qb-{r}" for r in ids if int(r[1:]) % 2]
