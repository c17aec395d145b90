"""What a researcher does to a run, as plain functions over the decision log: the browser's forms and the JSON API
call these, so that a rule (what may be accepted, which themes are targets) is written once. Each returns the
decision(s) it appended, committed; bad input raises ``BadInput`` / ``NotFound`` with a French message."""

from __future__ import annotations

from dataclasses import dataclass

from verbatim.models.decisions import QuestionState, User
from verbatim.models.review import QUEUE, Decision, DecisionKind
from verbatim.web.data import BadInput, NotFound, ReviewData, active_theme
from verbatim.web.pages import MAX_LABEL, checked, theme_name

#: The actions on one excerpt, as the forms and the API name them.
EXCERPT_ACTIONS = ("accept", "reject", "recode", "no_theme")


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    message: str
    conflict: str | None = None  # the decision was made without seeing a later one by someone else: what to say


def conflict_message(data: ReviewData, state: QuestionState, decisions: list[Decision]) -> str | None:
    """What to tell the person whose ``decisions`` (on excerpts) conflict with someone else's, if any do."""
    clashes = [d for d in decisions if d.conflict_with_id is not None and d.excerpt_id is not None]
    if not clashes:
        return None
    others = {
        d.id: d
        for d in data.log.decisions(state.run_id, state.question)
        if d.id in {c.conflict_with_id for c in clashes}
    }
    if len(clashes) == 1:
        mine = clashes[0]
        other = others.get(mine.conflict_with_id or 0)
        if other is None:
            return None
        return (
            f"Conflit sur l'extrait {mine.excerpt_id} : {other.coder} y a pris une décision ({_said(state, other)}, "
            f"n° {other.id}) depuis que vous l'avez affiché. Votre décision s'applique ; les deux restent dans "
            "l'historique de l'extrait."
        )
    coders = sorted({o.coder for o in others.values()})
    shown = ", ".join(str(c.excerpt_id) for c in clashes[:5]) + (" …" if len(clashes) > 5 else "")
    return (
        f"Conflit sur {len(clashes)} extraits ({shown}) : {', '.join(coders)} y ont pris des décisions depuis que "
        "vous les avez affichés. Vos décisions s'appliquent ; les deux restent dans l'historique de chaque extrait."
    )


def _said(state: QuestionState, d: Decision) -> str:
    """A decision on an excerpt in a few words ("recodé vers « Formation »")."""
    if d.kind == DecisionKind.RECODE and d.to_theme_id is not None:
        return f"recodé vers « {theme_name(state.themes, d.to_theme_id)} »"
    if d.kind == DecisionKind.REJECT:
        return "rejeté vers la file de revue"
    if d.theme_id is None or d.theme_id == QUEUE:
        return "classé sans thème"
    return f"accepté dans « {theme_name(state.themes, d.theme_id)} »"


def excerpt_in(state: QuestionState, excerpt_id: str) -> None:
    if excerpt_id not in state.codes:
        raise NotFound(f"L'extrait « {excerpt_id} » n'existe pas dans cette question.")


def decide_excerpt(
    data: ReviewData,
    state: QuestionState,
    me: User,
    excerpt_id: str,
    action: str,
    *,
    to_theme: int | None = None,
    shown_theme: int | None = None,
    seen: int | None = None,
    idempotency_key: str | None = None,
) -> Outcome:
    """Accept, reject, class without a theme or recode one excerpt. ``shown_theme``: the code the user saw (default:
    the current one); ``seen``: the latest decision they saw (conflict detection, see ``DecisionLog.decide``): when
    the decision conflicts with someone else's, the outcome says so. ``idempotency_key``: see ``DecisionLog.decide``
    (a retry raises ``AlreadyDecided``)."""
    excerpt_in(state, excerpt_id)
    current = state.codes[excerpt_id].theme_id if shown_theme is None else shown_theme
    kind, theme_id, message = _excerpt_action(state, excerpt_id, action, current, to_theme)
    decision = data.log.decide(
        state.run_id, state.question, kind, me.name, excerpt_id=excerpt_id, theme_id=theme_id,
        to_theme_id=to_theme if kind == DecisionKind.RECODE else None, seen_decision_id=seen,
        idempotency_key=idempotency_key,
    )  # fmt: skip
    conflict = conflict_message(data, state, [decision])
    return Outcome(decision, message, conflict)


def _excerpt_action(
    state: QuestionState, excerpt_id: str, action: str, current: int, to_theme: int | None
) -> tuple[DecisionKind, int, str]:
    """The decision an action on an excerpt coded ``current`` makes: its kind, its theme, and what to say."""
    if action == "accept":
        if current == QUEUE:
            raise BadInput("Cet extrait n'a pas de thème à accepter : recodez-le vers un thème.")
        return (
            DecisionKind.ACCEPT,
            current,
            f"Extrait {excerpt_id} accepté dans « {theme_name(state.themes, current)} ».",
        )
    if action == "reject":
        message = f"Extrait {excerpt_id} rejeté : il attend en file de revue d'être recodé ou classé sans thème."
        return DecisionKind.REJECT, current, message
    if action == "no_theme":
        return DecisionKind.ACCEPT, QUEUE, f"Extrait {excerpt_id} classé sans thème : il quitte la file de revue."
    if action == "recode":
        if to_theme is None:
            raise BadInput("Champ manquant : thème cible.")
        active_theme(state, to_theme)
        return (
            DecisionKind.RECODE,
            current,
            f"Extrait {excerpt_id} recodé vers « {theme_name(state.themes, to_theme)} ».",
        )
    raise BadInput(f"Action inconnue : « {action[:40]} » (accept, reject, no_theme ou recode).")


def new_theme(
    data: ReviewData,
    run_id: str,
    question: str,
    me: User,
    label: str,
    excerpt_ids: list[str],
    parent_theme_id: int | None = None,
) -> int:
    """A theme made by a researcher (from one excerpt, or split from a theme), with its description, keywords and
    representative excerpts at once, from its excerpts' lemmas; its number."""
    from verbatim.nlp.labels import summarise_theme

    rows = [r for r in data.store.excerpts(run_id) if r.question == question]
    chosen = set(excerpt_ids)
    mine = [r for r in rows if r.excerpt_id in chosen]
    summary = summarise_theme(
        [r.text for r in mine],
        [r.lemmas.split() for r in mine],
        [r.respondent_id for r in mine],
        [r.lemmas.split() for r in rows],
    )
    return data.log.create_theme(
        run_id, question, me.name, label, parent_theme_id=parent_theme_id, excerpt_ids=excerpt_ids,
        description=summary.description, keywords=summary.keywords,
        representative_excerpt_ids=[mine[i].excerpt_id for i in summary.representatives],
    )  # fmt: skip


def decide_many(
    data: ReviewData,
    state: QuestionState,
    me: User,
    excerpt_ids: list[str],
    action: str,
    to_theme: int | None = None,
    seen: dict[str, int | None] | None = None,
) -> Outcome:
    """Accept, reject or recode (to ``to_theme``) several excerpts of one question: one decision each, in one
    transaction (all or none); ``seen``: the latest decision each was shown with (conflict detection)."""
    if not excerpt_ids:
        raise BadInput("Aucun extrait sélectionné : cochez au moins un extrait.")
    for e in excerpt_ids:
        excerpt_in(state, e)
    if action == "recode":
        if to_theme is None:
            raise BadInput("Choisissez le thème vers lequel recoder.")
        active_theme(state, to_theme)
    elif action == "accept":
        if any(state.codes[e].theme_id == QUEUE for e in excerpt_ids):
            raise BadInput("La sélection contient des extraits sans thème : recodez-les plutôt.")
    elif action != "reject":
        raise BadInput(f"Action inconnue : « {action[:40]} ».")
    kind = {"accept": DecisionKind.ACCEPT, "reject": DecisionKind.REJECT, "recode": DecisionKind.RECODE}[action]
    items: list[dict[str, object]] = [
        {"kind": kind, "excerpt_id": e, "theme_id": state.codes[e].theme_id,
         "to_theme_id": to_theme if action == "recode" else None, "seen_decision_id": (seen or {}).get(e)}
        for e in excerpt_ids
    ]  # fmt: skip
    decisions = data.log.decide_many(state.run_id, state.question, me.name, items)
    verb = {"accept": "accepté(s)", "reject": "rejeté(s)", "recode": "recodé(s)"}[action]
    return Outcome(decisions[0], f"{len(excerpt_ids)} extrait(s) {verb}.", conflict_message(data, state, decisions))


@dataclass(frozen=True)
class FamilyChange:
    """What a change to the families did: the decision appended (None: nothing to change) and what to say."""

    decision: Decision | None
    message: str
    family_id: int


def rename_family(data: ReviewData, state: QuestionState, me: User, family_id: int, label: str) -> FamilyChange:
    """Family ``family_id`` of the question gets the name ``label`` (a decision, unless it has it already)."""
    if family_id not in state.families:
        raise NotFound(f"La famille n° {family_id} n'existe pas dans cette question.")
    label = checked(label, "nom de la famille", limit=MAX_LABEL)
    if label == state.families[family_id].label:
        return FamilyChange(None, "Rien à changer : la famille porte déjà ce nom.", family_id)
    decision = data.log.rename_family(state.run_id, state.question, me.name, family_id, label)
    return FamilyChange(decision, f"Famille renommée « {label} ».", family_id)


def move_to_family(
    data: ReviewData, state: QuestionState, me: User, theme_id: int, family_id: int | None, new_label: str = ""
) -> FamilyChange:
    """Theme ``theme_id`` goes into family ``family_id``, or into a new family named ``new_label`` when
    ``family_id`` is None (a decision, unless it is in that family already)."""
    active_theme(state, theme_id)
    if family_id is None:
        label = checked(new_label, "nom de la nouvelle famille", limit=MAX_LABEL)
        decision = data.log.move_to_family(state.run_id, state.question, me.name, theme_id, None, label)
    else:
        if family_id not in state.families:
            raise BadInput(f"La famille n° {family_id} n'existe pas dans cette question.")
        current = state.family_of(theme_id)
        if current is not None and current.family_id == family_id:
            return FamilyChange(None, "Rien à changer : le thème est déjà dans cette famille.", family_id)
        decision = data.log.move_to_family(state.run_id, state.question, me.name, theme_id, family_id)
        label = state.families[family_id].label
    moved_to = int(decision.family_id or 0)
    said = f"« {theme_name(state.themes, theme_id)} » est maintenant dans la famille « {label} »."
    return FamilyChange(decision, said, moved_to)
