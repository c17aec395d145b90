"""The decision log and the accounts of the people who write it.

Each call commits its own transaction before it returns: a decision acknowledged to a researcher survives a
``kill -9`` of the server a moment later. Nothing here updates or deletes a decision.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Select, func, insert, null, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verbatim.errors import StoreError
from verbatim.models.bulk import chunks, without_collection
from verbatim.models.review import (
    DEFAULT_FAMILY_ID,
    DEFAULT_FAMILY_LABEL,
    EXCERPT_KINDS,
    OTHER_FAMILY_ID,
    QUEUE,
    CurrentCode,
    Decision,
    DecisionKind,
    FamilyBase,
    FamilyState,
    MachineCode,
    ThemeBase,
    ThemeState,
    current_codes,
    family_states,
    theme_states,
)
from verbatim.models.store import MACHINE_CODER, Store, latest_machine_version, machine_version_query
from verbatim.models.tables import CodingRow, DecisionRow, ExcerptRow, RunRow, ThemeFamilyRow, ThemeRow, UserRow

BOUND_PARAMETERS = 10_000  # excerpts named in one statement: SQLite takes 32,766 parameters, psycopg 65,535


class Role(StrEnum):
    ADMIN = "admin"  # everything, and accounts
    RESEARCHER = "researcher"  # reads and decides
    VIEWER = "viewer"  # reads only


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str
    active: bool = True  # deactivated accounts cannot log in (see verbatim.models.accounts)

    @property
    def can_decide(self) -> bool:
        return self.role in (Role.ADMIN, Role.RESEARCHER)


#: See ``DecisionLog.position``: (run created at, last decision id, number of decisions, machine coding version).
Position = tuple[datetime | None, int, int, int]


@dataclass(frozen=True)
class QuestionState:
    """A question of a run as it stands: its codebook and the current code of each excerpt."""

    run_id: str
    question: str
    themes: dict[int, ThemeState]
    codes: dict[str, CurrentCode]
    machine: dict[str, MachineCode]
    decisions: list[Decision]
    families: dict[int, FamilyState] = field(default_factory=dict)
    theme_family: dict[int, int] = field(default_factory=dict)  # theme id -> family id

    def active_themes(self) -> list[ThemeState]:
        return sorted((t for t in self.themes.values() if t.active), key=lambda t: t.theme_id)

    def family_of(self, theme_id: int) -> FamilyState | None:
        """The family of a theme now (None for the review queue or an unknown theme). A state built without
        families (a test's, an empty question's) puts every theme in the one family 'Thèmes'."""
        if theme_id not in self.themes:
            return None
        family_id = self.theme_family.get(theme_id, DEFAULT_FAMILY_ID)
        return self.families.get(family_id) or FamilyState(family_id, DEFAULT_FAMILY_LABEL, DEFAULT_FAMILY_LABEL)

    def active_families(self) -> list[tuple[FamilyState, list[ThemeState]]]:
        """The families that hold an active theme, with those themes: by number, 'Autres' last; every active
        theme is in exactly one of them."""
        groups: dict[int, tuple[FamilyState, list[ThemeState]]] = {}
        for theme in self.active_themes():
            family = self.family_of(theme.theme_id)
            assert family is not None
            groups.setdefault(family.family_id, (family, []))[1].append(theme)
        return [groups[f] for f in sorted(groups, key=lambda f: (f == OTHER_FAMILY_ID, f))]

    def excerpts_of(self, theme_id: int) -> list[str]:
        """The excerpts coded ``theme_id`` now, sorted."""
        return list(self._by_theme.get(theme_id, ()))

    @functools.cached_property
    def _by_theme(self) -> dict[int, list[str]]:
        """Every theme's excerpts, sorted: made once per state (a question page asks for every theme, and a
        question of 200,000 excerpts took 150 ms a theme to scan)."""
        by_theme: dict[int, list[str]] = {}
        for excerpt_id, code in self.codes.items():
            by_theme.setdefault(code.theme_id, []).append(excerpt_id)
        for ids in by_theme.values():
            ids.sort()
        return by_theme


class AlreadyDecided(Exception):
    """A decision sent again with an idempotency key already stored for its coder: nothing new was written;
    ``decision`` is the one stored the first time (in ``run_id``, ``question``)."""

    def __init__(self, run_id: str, question: str, decision: Decision) -> None:
        super().__init__(f"decision {decision.id} was already stored with this idempotency key")
        self.run_id, self.question, self.decision = run_id, question, decision


def _decision(row: DecisionRow | Row[Any]) -> Decision:
    return Decision(
        id=row.id,
        kind=DecisionKind(row.kind),
        coder=row.coder,
        created_at=row.created_at,
        excerpt_id=row.excerpt_id,
        theme_id=row.theme_id,
        to_theme_id=row.to_theme_id,
        text=row.text,
        undoes_id=row.undoes_id,
        batch_id=row.batch_id,
        conflict_with_id=row.conflict_with_id,
        double_coding=row.double_coding,
        family_id=row.family_id,
    )


class DecisionLog:
    """Records researchers' decisions on a run and derives the state they lead to."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- accounts ------------------------------------------------------------------------------------------------
    def add_user(self, name: str, role: Role, password_hash: str) -> User:
        name = name.strip()
        if not name or name == MACHINE_CODER:
            raise StoreError(f"'{name}' cannot be a user name (empty, or reserved for the machine)")
        with self.store.session() as s:
            if s.get(UserRow, name) is not None:
                raise StoreError(f"user '{name}' already exists")
            s.add(UserRow(name=name, role=str(role), password_hash=password_hash, created_at=datetime.now(UTC)))
        return User(name, role, password_hash)

    def user(self, name: str) -> User | None:
        with self.store.session() as s:
            row = s.get(UserRow, name)
            return None if row is None else User(row.name, Role(row.role), row.password_hash, bool(row.active))

    def users(self) -> list[User]:
        with self.store.session() as s:
            return [
                User(r.name, Role(r.role), r.password_hash, bool(r.active))
                for r in s.scalars(select(UserRow).order_by(UserRow.name))
            ]

    # -- reading -------------------------------------------------------------------------------------------------
    def decisions(self, run_id: str, question: str | None = None, excerpt_id: str | None = None) -> list[Decision]:
        with self.store.session() as s:
            stmt = select(DecisionRow.__table__).where(DecisionRow.run_id == run_id)
            if question is not None:
                stmt = stmt.where(DecisionRow.question == question)
            if excerpt_id is not None:
                stmt = stmt.where(DecisionRow.excerpt_id == excerpt_id)
            return [_decision(r) for r in s.execute(stmt.order_by(DecisionRow.id))]

    def position(self, run_id: str, question: str) -> Position:
        """Where the question's state stands: the run's creation time, its last decision's id, its number of
        decisions and the run's latest machine coding version. Anything that changes the state (a decision, a
        recode by the machine, the run removed and stored again) changes it, and it never comes back: a key for
        what is computed from the state. The count matters: on PostgreSQL, decisions on different excerpts may
        commit out of the order of their ids, so a reader may see id 101 before id 100; the log only grows, so
        the same last id and the same count mean the same decisions."""
        of_question = (DecisionRow.run_id == run_id) & (DecisionRow.question == question)
        with self.store.reading() as s:
            created, last_id, count, version = s.execute(
                select(
                    select(RunRow.created_at).where(RunRow.run_id == run_id).scalar_subquery(),
                    select(func.max(DecisionRow.id)).where(of_question).scalar_subquery(),
                    select(func.count()).select_from(DecisionRow).where(of_question).scalar_subquery(),
                    machine_version_query(run_id).scalar_subquery(),
                )
            ).one()
            return created, int(last_id or 0), int(count or 0), int(version or 0)

    def state(self, run_id: str, question: str, machine_version: int | None = None) -> QuestionState:
        """The question's codebook and current codes, from the machine codes (latest version) and the decisions."""
        with self.store.session() as s, without_collection():  # an object or two per excerpt: see there
            return _state(s, run_id, question, machine_version, None)

    def excerpt_state(
        self, run_id: str, excerpt_id: str, sent_before: tuple[str, str] | None = None
    ) -> QuestionState | None:
        """The question of excerpt ``excerpt_id`` as ``state`` has it, but with the code, machine code and decisions
        of that excerpt only (the codebook and the families whole): what a decision on it needs, read in one
        transaction and in a time that does not grow with the run's excerpts and decisions. ``None``: the run has no
        such excerpt.

        ``sent_before``: a coder and the idempotency key of the decision they are about to send; when they already
        stored one with it (a retry), ``AlreadyDecided`` names it instead (see ``decide``)."""
        coder, key = sent_before or ("", "")
        stored = _key_query(coder, key).with_only_columns(DecisionRow.id).scalar_subquery() if sent_before else null()
        with self.store.reading() as s:  # the key, the question and the machine's version in one statement
            stored_id, question, version = s.execute(
                select(
                    stored,
                    _question_query(run_id, excerpt_id).scalar_subquery(),
                    machine_version_query(run_id).scalar_subquery(),
                )
            ).one()
            if stored_id is not None and (already := self._stored_with_key(s, coder, key)) is not None:
                raise already
            return None if question is None else _state(s, run_id, question, version or 1, excerpt_id)

    # -- writing -------------------------------------------------------------------------------------------------
    def decide(
        self,
        run_id: str,
        question: str,
        kind: DecisionKind,
        coder: str,
        *,
        excerpt_id: str | None = None,
        theme_id: int | None = None,
        to_theme_id: int | None = None,
        text: str | None = None,
        undoes_id: int | None = None,
        seen_decision_id: int | None = None,
        batch_id: str | None = None,
        double_coding: bool = False,
        idempotency_key: str | None = None,
    ) -> Decision:
        """Append one decision, committed before returning.

        ``seen_decision_id`` is the latest decision on the excerpt that the coder saw (``0``: they saw none); a later
        one by someone else makes this decision a visible conflict. ``None`` means unknown: no conflict check (a
        spreadsheet import without the column, a script). Blind double-coding decisions (``double_coding``) are
        measurements: they do not change the excerpt's code, and neither make nor take part in conflicts.

        ``idempotency_key``: the client's key for this decision; when ``coder`` already has a decision stored with
        it (a retry after a lost answer, even one sent by another process at the same moment), nothing is written
        and ``AlreadyDecided`` names the stored one."""
        return self.decide_many(
            run_id,
            question,
            coder,
            [
                {
                    "kind": kind,
                    "excerpt_id": excerpt_id,
                    "theme_id": theme_id,
                    "to_theme_id": to_theme_id,
                    "text": text,
                    "undoes_id": undoes_id,
                    "seen_decision_id": seen_decision_id,
                    "double_coding": double_coding,
                    "idempotency_key": idempotency_key,
                }
            ],
            batch_id=batch_id,
        )[0]

    @staticmethod
    def _stored_with_key(s: Session, coder: str, *keys: str) -> AlreadyDecided | None:
        row = s.execute(_key_query(coder, *keys)).first()
        return None if row is None else AlreadyDecided(row.run_id, row.question, _decision(row))

    def decide_many(
        self, run_id: str, question: str, coder: str, items: Sequence[dict[str, object]], batch_id: str | None = None
    ) -> list[Decision]:
        """Append several decisions in one transaction (a bulk accept, a split): all or none. Items may carry an
        ``idempotency_key`` (see ``decide``): if one is already stored for ``coder``, none is written."""
        keys = [str(k) for item in items if (k := item.get("idempotency_key"))]
        try:
            return self._append(run_id, question, coder, items, batch_id, keys)
        except IntegrityError:
            if not keys:
                raise
            with self.store.session() as s:  # another process stored the same key between our check and commit
                stored = self._stored_with_key(s, coder, *keys)
            if stored is None:
                raise
            raise stored from None

    def _append(
        self,
        run_id: str,
        question: str,
        coder: str,
        items: Sequence[dict[str, object]],
        batch_id: str | None,
        keys: Sequence[str],
    ) -> list[Decision]:
        batch = batch_id or (secrets.token_hex(8) if len(items) > 1 else None)
        now = datetime.now(UTC)
        excerpts = [item.get("excerpt_id") for item in items if DecisionKind(str(item["kind"])) in EXCERPT_KINDS]
        with self.store.writing() as s:
            _check_writer(s, run_id, question, coder, excerpts)
            _one_writer_at_a_time(s, run_id, coder, [item.get("excerpt_id") for item in items])
            # a key already stored is found by the unique index at the insert (see decide_many): no lookup first
            decisions = []
            for item in items:
                kind = DecisionKind(str(item["kind"]))
                row = DecisionRow(
                    run_id=run_id,
                    question=question,
                    kind=str(kind),
                    coder=coder,
                    created_at=now,
                    excerpt_id=item.get("excerpt_id"),
                    theme_id=item.get("theme_id"),
                    to_theme_id=item.get("to_theme_id"),
                    text=item.get("text"),
                    undoes_id=item.get("undoes_id"),
                    batch_id=batch,
                    seen_decision_id=item.get("seen_decision_id"),
                    double_coding=bool(item.get("double_coding", False)),
                    family_id=item.get("family_id"),
                    idempotency_key=item.get("idempotency_key"),
                )
                values: dict[str, Any] = {c.key: getattr(row, c.key) for c in DecisionRow.__table__.c if c.key != "id"}
                if kind in EXCERPT_KINDS and not row.double_coding and row.seen_decision_id is not None:
                    values["conflict_with_id"] = _unseen_decision(row).scalar_subquery()  # read after the lock
                inserted = insert(DecisionRow).values(values).returning(DecisionRow.id, DecisionRow.conflict_with_id)
                row.id, row.conflict_with_id = s.execute(inserted).one()
                decisions.append(_decision(row))
            return decisions

    def create_theme(
        self,
        run_id: str,
        question: str,
        coder: str,
        label: str,
        parent_theme_id: int | None = None,
        excerpt_ids: Sequence[str] = (),
        description: str = "",
        keywords: Sequence[str] = (),
        representative_excerpt_ids: Sequence[str] = (),
    ) -> int:
        """A new theme (named ``label``), optionally split from ``parent_theme_id``, with ``excerpt_ids`` recoded
        into it: one gesture, one transaction. Its ``description``, ``keywords`` and representative excerpts are
        written with it (see ``verbatim.nlp.labels.summarise_theme``)."""
        label = label.strip()
        if not label:
            raise StoreError("a new theme needs a label")
        now = datetime.now(UTC)
        with self.store.writing() as s:
            _check_writer(s, run_id, question, coder, excerpt_ids)
            _one_writer_at_a_time(s, run_id, coder, [])  # two new themes at once get two numbers
            new_id = 1 + int(
                s.scalar(
                    select(func.max(ThemeRow.theme_id)).where(ThemeRow.run_id == run_id, ThemeRow.question == question)
                )
                or 0
            )
            s.add(
                ThemeRow(
                    run_id=run_id,
                    question=question,
                    theme_id=new_id,
                    label=label,
                    description=description,
                    keywords=list(keywords),
                    n_excerpts=len(excerpt_ids),
                    n_respondents=0,
                    representative_excerpt_ids=[e for e in representative_excerpt_ids if e in excerpt_ids],
                    created_by=coder,
                    parent_theme_id=parent_theme_id,
                )
            )
            batch = secrets.token_hex(8)
            s.add(
                DecisionRow(
                    run_id=run_id, question=question, kind=str(DecisionKind.CREATE_THEME), coder=coder,
                    created_at=now, theme_id=parent_theme_id, to_theme_id=new_id, text=label, batch_id=batch,
                )
            )  # fmt: skip
            for excerpt_id in excerpt_ids:
                s.add(
                    DecisionRow(
                        run_id=run_id, question=question, kind=str(DecisionKind.RECODE), coder=coder, created_at=now,
                        excerpt_id=excerpt_id, theme_id=parent_theme_id, to_theme_id=new_id, batch_id=batch,
                    )
                )  # fmt: skip
        return new_id

    def merge(self, run_id: str, question: str, coder: str, theme_id: int, into_theme_id: int) -> Decision:
        state = self.state(run_id, question)
        for t in (theme_id, into_theme_id):
            if t not in state.themes or not state.themes[t].active:
                raise StoreError(f"theme {t} is not an active theme of '{question}'")
        if theme_id in (into_theme_id, QUEUE):
            raise StoreError("a theme cannot be merged into itself")
        return self.decide(run_id, question, DecisionKind.MERGE, coder, theme_id=theme_id, to_theme_id=into_theme_id)

    def rename_family(self, run_id: str, question: str, coder: str, family_id: int, label: str) -> Decision:
        """Family ``family_id`` of the question is now called ``label``."""
        label = label.strip()
        if not label:
            raise StoreError("a family needs a name")
        state = self.state(run_id, question)
        if family_id not in state.families:
            raise StoreError(f"family {family_id} is not a family of '{question}'")
        return self._decide_family(run_id, question, coder, DecisionKind.RENAME_FAMILY, None, family_id, label)

    def move_to_family(
        self, run_id: str, question: str, coder: str, theme_id: int, family_id: int | None, new_label: str = ""
    ) -> Decision:
        """Theme ``theme_id`` goes into family ``family_id``, or, when ``family_id`` is None, into a new family
        named ``new_label``. Returns the decision (its ``family_id`` names the family)."""
        state = self.state(run_id, question)
        if theme_id not in state.themes or not state.themes[theme_id].active:
            raise StoreError(f"theme {theme_id} is not an active theme of '{question}'")
        label: str | None = None
        if family_id is None:
            label = new_label.strip()
            if not label:
                raise StoreError("a new family needs a name")
            family_id = 1 + max(state.families, default=0)
        elif family_id not in state.families:
            raise StoreError(f"family {family_id} is not a family of '{question}'")
        return self._decide_family(run_id, question, coder, DecisionKind.MOVE_TO_FAMILY, theme_id, family_id, label)

    def _decide_family(
        self,
        run_id: str,
        question: str,
        coder: str,
        kind: DecisionKind,
        theme_id: int | None,
        family_id: int,
        text: str | None,
    ) -> Decision:
        item: dict[str, object] = {"kind": kind, "theme_id": theme_id, "family_id": family_id, "text": text}
        return self.decide_many(run_id, question, coder, [item])[0]


def _key_query(coder: str, *keys: str) -> Select[Any]:
    """The first decision ``coder`` stored with one of the idempotency ``keys``, its columns."""
    return (
        select(DecisionRow.__table__)
        .where(DecisionRow.coder == coder, DecisionRow.idempotency_key.in_(keys))
        .order_by(DecisionRow.id)
        .limit(1)
    )


def _question_query(run_id: str, excerpt_id: str) -> Select[str]:
    """The question that excerpt ``excerpt_id`` of the run answers (no row: no such excerpt)."""
    return select(ExcerptRow.question).where(ExcerptRow.run_id == run_id, ExcerptRow.excerpt_id == excerpt_id)


def _question_of(s: Session, run_id: str, excerpt_id: str) -> str | None:
    """The question that excerpt ``excerpt_id`` of the run answers (``None``: no such excerpt)."""
    question = s.scalar(_question_query(run_id, excerpt_id))
    return None if question is None else str(question)


def _state(
    s: Session, run_id: str, question: str, machine_version: int | None, excerpt_id: str | None
) -> QuestionState:
    """See ``DecisionLog.state`` and ``DecisionLog.excerpt_state``: columns, not ORM objects, are read (a question of
    100,000 excerpts reads five times faster, and a decision's few rows a good part faster too)."""
    bases = [
        ThemeBase(*row)
        for row in s.execute(
            select(
                ThemeRow.theme_id,
                ThemeRow.label,
                ThemeRow.description,
                ThemeRow.created_by,
                ThemeRow.parent_theme_id,
                ThemeRow.family_id,
            ).where(ThemeRow.run_id == run_id, ThemeRow.question == question)
        )
    ]
    family_bases = [
        FamilyBase(family_id, label, tuple(str(k) for k in keywords))
        for family_id, label, keywords in s.execute(
            select(ThemeFamilyRow.family_id, ThemeFamilyRow.label, ThemeFamilyRow.keywords)
            .where(ThemeFamilyRow.run_id == run_id, ThemeFamilyRow.question == question)
            .order_by(ThemeFamilyRow.family_id)
        )
    ]
    version = machine_version or latest_machine_version(s, run_id) or 1
    codings = (
        select(CodingRow.excerpt_id, CodingRow.theme_id, CodingRow.score, CodingRow.runner_up_theme_id)
        .join(ExcerptRow, (ExcerptRow.run_id == CodingRow.run_id) & (ExcerptRow.excerpt_id == CodingRow.excerpt_id))
        .where(
            CodingRow.run_id == run_id,
            CodingRow.coder == MACHINE_CODER,
            CodingRow.version == version,
            ExcerptRow.question == question,
        )
    )
    logged = select(DecisionRow.__table__).where(DecisionRow.run_id == run_id, DecisionRow.question == question)
    if excerpt_id is not None:  # the codebook's decisions (no excerpt) and the excerpt's own, undos included:
        codings = codings.where(CodingRow.excerpt_id == excerpt_id)  # lookups of the (run, excerpt) index
        logged = logged.where(or_(DecisionRow.excerpt_id.is_(None), DecisionRow.excerpt_id == excerpt_id))
    machine = {e: MachineCode(e, t, score, runner_up) for e, t, score, runner_up in s.execute(codings)}
    decisions = [_decision(r) for r in s.execute(logged.order_by(DecisionRow.id))]
    themes = theme_states(bases, decisions)
    families, theme_family = family_states(family_bases, bases, themes, decisions)
    codes = current_codes(machine.values(), decisions, themes)
    return QuestionState(run_id, question, themes, codes, machine, decisions, families, theme_family)


def _check_writer(s: Session, run_id: str, question: str, coder: str, excerpt_ids: Sequence[object]) -> None:
    """Refuse a write to a question with no themes, by a coder who may not decide, or on an excerpt of another
    question (or of none): one statement when all is well."""
    if coder == MACHINE_CODER:
        raise StoreError("decisions belong to people: the machine codes through analysis runs")
    named = sorted({e for e in excerpt_ids if isinstance(e, str)})
    in_chunks = chunks(named, BOUND_PARAMETERS) or [[]]

    def in_question(ids: list[str]) -> Select[int]:
        return (
            select(func.count())
            .select_from(ExcerptRow)
            .where(ExcerptRow.run_id == run_id, ExcerptRow.question == question, ExcerptRow.excerpt_id.in_(ids))
        )

    themes = select(ThemeRow.theme_id).where(ThemeRow.run_id == run_id, ThemeRow.question == question).limit(1)
    role = select(UserRow.role).where(UserRow.name == coder)
    has_themes, coder_role, found = s.execute(
        select(themes.scalar_subquery(), role.scalar_subquery(), in_question(in_chunks[0]).scalar_subquery())
    ).one()
    found += sum(int(s.scalar(in_question(chunk)) or 0) for chunk in in_chunks[1:])
    if has_themes is None:
        raise StoreError(f"question '{question}' of run '{run_id}' has no themes to review")
    if coder_role is None:
        raise StoreError(f"unknown user '{coder}': create the account first (verbatim user add {coder} ...)")
    if coder_role == Role.VIEWER:
        raise StoreError(f"user '{coder}' is a viewer: viewers read, they do not decide")
    if found != len(named) or not all(isinstance(e, str) for e in excerpt_ids):
        wrong = next(e for e in excerpt_ids if not isinstance(e, str) or _question_of(s, run_id, e) != question)
        raise StoreError(f"excerpt '{wrong}' is not in question '{question}' of run '{run_id}'")


def _unseen_decision(row: DecisionRow) -> Select[int | None]:
    """The latest decision on the row's excerpt, by someone else, after the one its coder saw (none: no conflict)."""
    return select(func.max(DecisionRow.id)).where(
        DecisionRow.run_id == row.run_id,
        DecisionRow.excerpt_id == row.excerpt_id,
        DecisionRow.coder != row.coder,
        DecisionRow.double_coding.is_(False),
        DecisionRow.id > int(str(row.seen_decision_id)),
    )


def _one_writer_at_a_time(s: Session, run_id: str, coder: str, excerpt_ids: Sequence[object]) -> None:
    """Take the write lock of each excerpt decided on before reading what the coder has not seen: two decisions on
    one excerpt made at the same moment (in two processes) then follow each other, and the second sees the first, so
    it is flagged as a conflict.

    PostgreSQL: a transaction-level advisory lock per excerpt (per run for a decision on no excerpt), taken in one
    statement in a fixed order, so that two bulk decisions never wait for each other in a circle; decisions on other
    excerpts go on meanwhile and their commits share the disk's flushes. SQLite: a write (the coder's own row,
    unchanged) that takes the database's write lock at once; the next writer waits for the commit."""
    if s.get_bind().dialect.name == "postgresql":
        names = {f"decisions:{run_id}:{e}" for e in excerpt_ids if isinstance(e, str)} or {f"decisions:{run_id}"}
        keys = sorted(int.from_bytes(hashlib.sha256(n.encode()).digest()[:8], "big", signed=True) for n in names)
        s.execute(text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"), {"keys": keys})
    else:
        s.execute(update(UserRow).where(UserRow.name == coder).values(role=UserRow.role))
