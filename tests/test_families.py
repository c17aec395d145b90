"""Families of themes: the grouping (nlp), the derived state (decisions), and the reviewed sample run."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from verbatim.models.review import (
    DEFAULT_FAMILY_ID,
    DEFAULT_FAMILY_LABEL,
    OTHER_FAMILY_ID,
    Decision,
    DecisionKind,
    FamilyBase,
    ThemeBase,
    family_states,
    theme_states,
)
from verbatim.nlp.families import fit_families, n_families

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_number_of_families_follows_the_number_of_themes() -> None:
    assert [n_families(n) for n in (0, 1, 3)] == [0, 1, 1]
    assert 2 <= n_families(6) <= 3
    assert all(4 <= n_families(n) <= 6 for n in range(15, 21))
    assert n_families(60) == 6


def test_families_group_near_themes_and_are_labelled_from_their_words() -> None:
    rng = np.random.default_rng(0)
    axes = np.eye(8)
    # 8 themes of 5 excerpts: themes 0-3 near axis 0 ("logiciel"), themes 4-7 near axis 1 ("transport")
    vectors, members, lemmas, texts = [], [], [], []
    for t in range(8):
        base = axes[0 if t < 4 else 1] + 0.3 * axes[2 + t % 6]
        word = "logiciel" if t < 4 else "transport"
        members.append(list(range(5 * t, 5 * t + 5)))
        for _ in range(5):
            vectors.append(base + 0.01 * rng.normal(size=8))
            lemmas.append([word, f"mot{t}"])
            texts.append(f"{word} mot{t}")
    families = fit_families(np.array(vectors), list(range(8)), members, lemmas, lemmas, texts)
    assert len(families) == n_families(8) == 2
    assert sorted(t for f in families for t in f.theme_ids) == list(range(8))
    assert {frozenset(f.theme_ids) for f in families} == {frozenset(range(4)), frozenset(range(4, 8))}
    assert [f.family_id for f in families] == [1, 2]
    assert sorted(f.label.split()[0].strip(",") for f in families) == ["Logiciel", "Transport"]


def _decision(i: int, kind: DecisionKind, **kw: object) -> Decision:
    return Decision(i, kind, "alice", NOW, **kw)  # type: ignore[arg-type]


def test_renames_moves_and_researchers_themes_in_the_state() -> None:
    bases = [ThemeBase(0, "a", family_id=1), ThemeBase(1, "b", family_id=1), ThemeBase(2, "c", family_id=2)]
    decisions = [
        _decision(1, DecisionKind.CREATE_THEME, theme_id=2, to_theme_id=3, text="split of c"),
        _decision(2, DecisionKind.CREATE_THEME, to_theme_id=4, text="new"),
        _decision(3, DecisionKind.RENAME_FAMILY, family_id=2, text="Deux"),
        _decision(4, DecisionKind.MOVE_TO_FAMILY, theme_id=1, family_id=2),
        _decision(5, DecisionKind.MOVE_TO_FAMILY, theme_id=0, family_id=7, text="Nouvelle"),
        _decision(6, DecisionKind.UNDO, undoes_id=5),
    ]
    themes = theme_states(bases, decisions)
    families, of = family_states([FamilyBase(1, "Un"), FamilyBase(2, "Two")], bases, themes, decisions)
    assert of == {0: 1, 1: 2, 2: 2, 3: 2, 4: OTHER_FAMILY_ID}
    assert families[2].label == "Deux" and families[2].machine_label == "Two"
    assert 7 not in families and 7 not in set(of.values())  # the move into a new family was undone
    families, of = family_states([FamilyBase(1, "Un"), FamilyBase(2, "Two")], bases, themes, decisions[:-1])
    assert of[0] == 7 and families[7].label == "Nouvelle" and families[7].created_by == "alice"


def test_a_run_analysed_before_families_reads_as_one_family() -> None:
    bases = [ThemeBase(0, "a"), ThemeBase(1, "b")]
    decisions = [_decision(1, DecisionKind.CREATE_THEME, to_theme_id=2, text="new")]
    themes = theme_states(bases, decisions)
    families, of = family_states([], bases, themes, decisions)
    assert set(of.values()) == {DEFAULT_FAMILY_ID}
    assert families[DEFAULT_FAMILY_ID].label == DEFAULT_FAMILY_LABEL


@pytest.mark.slow
def test_every_theme_of_the_reviewed_run_is_in_exactly_one_family(reviewed) -> None:  # type: ignore[no-untyped-def]
    from verbatim.models.decisions import DecisionLog

    log = DecisionLog(reviewed.store)
    for question in ("difficultes", "idees"):
        state = log.state(reviewed.run_id, question)
        grouped = [t.theme_id for _, themes in state.active_families() for t in themes]
        assert sorted(grouped) == [t.theme_id for t in state.active_themes()]
        assert len(state.active_families()) >= 2
    state = log.state(reviewed.run_id, "difficultes")
    d = reviewed.decisions
    renamed = state.family_of(d.accepted_theme)
    assert renamed is not None and renamed.label == d.family_label
    assert state.family_of(d.split_theme) == renamed  # a split theme is in its parent's family
    moved = state.family_of(d.moved_theme)
    assert moved is not None and moved.family_id == d.moved_to_family
