"""Decisions from the browser: one excerpt, a selection, a theme's name, a merge, an undo. Each is appended to the
log and committed before the redirect that acknowledges it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from verbatim.models import blind
from verbatim.models.review import DecisionKind, undone
from verbatim.web import actions
from verbatim.web.actions import decide_excerpt, decide_many, excerpt_in, new_theme
from verbatim.web.data import BadInput, NotFound, active_theme
from verbatim.web.once import Once
from verbatim.web.pages import (
    MAX_LABEL,
    Form,
    data_of,
    field,
    flash,
    integer,
    next_url,
    parse_int,
    redirect,
    text,
    theme_name,
)
from verbatim.web.security import Forbidden

router = APIRouter()


def _seen(form: FormData, name: str = "seen") -> int | None:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return max(int(value), 0)
    except ValueError:
        raise BadInput("Identifiant de décision vu invalide.") from None


@router.post("/runs/{run_id}/q/{number}/decide")
def decide(request: Request, me: Once, form: Form, run_id: str, number: int) -> Response:
    """One excerpt: accept, reject, recode to a theme, or recode to a new theme."""
    data = data_of(request)
    _run, question = data.question(run_id, number)
    state = data.state(run_id, question)
    excerpt_id = text(form, "excerpt_id", "extrait")
    excerpt_in(state, excerpt_id)
    action = text(form, "action", "action")
    shown = form.get("theme")
    shown_theme = int(shown) if isinstance(shown, str) and shown.lstrip("-").isdigit() else None
    back = next_url(form, f"/runs/{quote(run_id)}/q/{number}/excerpt?id={quote(excerpt_id, safe='')}")
    if action == "new_theme":
        label = text(form, "label", "nom du nouveau thème", limit=MAX_LABEL)
        new_id = new_theme(data, run_id, question, me, label, [excerpt_id])
        flash(request, f"Nouveau thème n° {new_id} « {label} » créé avec l'extrait {excerpt_id}.")
        return redirect(back)
    to_theme = None
    if action.startswith("recode:"):
        action, to_theme = "recode", parse_int(action[7:], "thème")
    elif action == "recode":
        to_theme = integer(form, "to_theme", "thème cible")
    outcome = decide_excerpt(
        data, state, me, excerpt_id, action, to_theme=to_theme, shown_theme=shown_theme, seen=_seen(form)
    )
    flash(request, outcome.message)
    if outcome.conflict:
        flash(request, outcome.conflict, conflict=True)
    return redirect(back)


@router.post("/runs/{run_id}/q/{number}/bulk")
def bulk(request: Request, me: Once, form: Form, run_id: str, number: int) -> Response:
    """The selected excerpts: accept, reject, recode to a theme, or split into a new theme."""
    data = data_of(request)
    _run, question = data.question(run_id, number)
    state = data.state(run_id, question)
    ids = [e for e in form.getlist("excerpt_ids") if isinstance(e, str)]
    if not ids:
        raise BadInput("Aucun extrait sélectionné : cochez au moins un extrait.")
    for e in ids:
        excerpt_in(state, e)
    action = text(form, "action", "action")
    back = next_url(form, f"/runs/{quote(run_id)}/q/{number}")
    if action == "split":
        label = text(form, "label", "nom du nouveau thème", limit=MAX_LABEL)
        parent = integer(form, "theme", "thème d'origine")
        active_theme(state, parent)
        new_id = new_theme(data, run_id, question, me, label, ids, parent_theme_id=parent)
        flash(request, f"{len(ids)} extrait(s) déplacé(s) vers le nouveau thème n° {new_id} « {label} ».")
        return redirect(back)
    target = integer(form, "to_theme", "thème cible") if action == "recode" else None
    seen = {e: _seen(form, f"seen-{e}") for e in ids}
    outcome = decide_many(data, state, me, ids, action, target, seen)
    flash(request, outcome.message)
    if outcome.conflict:
        flash(request, outcome.conflict, conflict=True)
    return redirect(back)


@router.post("/runs/{run_id}/q/{number}/themes/{theme_id}/edit")
def edit_theme(request: Request, me: Once, form: Form, run_id: str, number: int, theme_id: int) -> Response:
    """Rename and / or describe a theme (one decision for each field that changed)."""
    data = data_of(request)
    _run, question = data.question(run_id, number)
    state = data.state(run_id, question)
    theme = active_theme(state, theme_id)
    label = text(form, "label", "nom du thème", limit=MAX_LABEL)
    description = text(form, "description", "description", required=False)
    items: list[dict[str, object]] = []
    if label != theme.label:
        items.append({"kind": DecisionKind.RENAME, "theme_id": theme_id, "text": label})
    if description != theme.description:
        items.append({"kind": DecisionKind.DESCRIBE, "theme_id": theme_id, "text": description})
    if items:
        data.log.decide_many(run_id, question, me.name, items)
        flash(request, "Thème mis à jour.")
    else:
        flash(request, "Rien à changer : le nom et la description sont les mêmes.")
    return redirect(next_url(form, f"/runs/{quote(run_id)}/q/{number}/themes/{theme_id}"))


@router.post("/runs/{run_id}/q/{number}/families/{family_id}/rename")
def rename_family(request: Request, me: Once, form: Form, run_id: str, number: int, family_id: int) -> Response:
    """A family of themes gets a new name (a decision)."""
    data = data_of(request)
    _run, question = data.question(run_id, number)
    label = field(form, "label")  # checked by the action, as for the API
    change = actions.rename_family(data, data.state(run_id, question), me, family_id, label)
    flash(request, change.message)
    return redirect(next_url(form, f"/runs/{quote(run_id)}/q/{number}#famille-{family_id}"))


@router.post("/runs/{run_id}/q/{number}/themes/{theme_id}/family")
def move_to_family(request: Request, me: Once, form: Form, run_id: str, number: int, theme_id: int) -> Response:
    """A theme goes into another family, or into a new one named in the form (``family`` = ``new``)."""
    data = data_of(request)
    _run, question = data.question(run_id, number)
    state = data.state(run_id, question)
    if form.get("family") == "new":
        label = field(form, "new_label")  # checked by the action, as for the API
        change = actions.move_to_family(data, state, me, theme_id, None, label)
    else:
        change = actions.move_to_family(data, state, me, theme_id, integer(form, "family", "famille"))
    flash(request, change.message)
    return redirect(next_url(form, f"/runs/{quote(run_id)}/q/{number}/themes/{theme_id}"))


@router.post("/runs/{run_id}/q/{number}/themes/{theme_id}/merge")
def merge_theme(request: Request, me: Once, form: Form, run_id: str, number: int, theme_id: int) -> Response:
    data = data_of(request)
    _run, question = data.question(run_id, number)
    state = data.state(run_id, question)
    active_theme(state, theme_id)
    target = integer(form, "into", "thème dans lequel fusionner")
    active_theme(state, target)
    if target == theme_id:
        raise BadInput("Un thème ne peut pas être fusionné dans lui-même.")
    data.log.merge(run_id, question, me.name, theme_id, target)
    flash(request, f"« {theme_name(state.themes, theme_id)} » fusionné dans « {theme_name(state.themes, target)} ».")
    return redirect(f"/runs/{quote(run_id)}/q/{number}/themes/{target}")


@router.post("/runs/{run_id}/q/{number}/themes/{theme_id}/delete")
def delete_theme(request: Request, me: Once, form: Form, run_id: str, number: int, theme_id: int) -> Response:
    """An empty theme leaves the codebook: a decision, which an undo reverses."""
    data = data_of(request)
    _run, question = data.question(run_id, number)
    state = data.state(run_id, question)
    active_theme(state, theme_id)
    left = len(state.excerpts_of(theme_id))
    if left:
        raise BadInput(f"Ce thème contient encore {left} extrait(s) : recodez-les ou fusionnez le thème.")
    data.log.decide(run_id, question, DecisionKind.DELETE_THEME, me.name, theme_id=theme_id)
    flash(request, f"Thème « {theme_name(state.themes, theme_id)} » supprimé. « Annuler » ci-dessous le rétablit.")
    return redirect(f"/runs/{quote(run_id)}/q/{number}/themes/{theme_id}")


@router.post("/runs/{run_id}/q/{number}/undo")
def undo(request: Request, me: Once, form: Form, run_id: str, number: int) -> Response:
    data = data_of(request)
    _run, question = data.question(run_id, number)
    state = data.state(run_id, question)
    decision_id = integer(form, "decision_id", "décision à annuler")
    target = next((d for d in state.decisions if d.id == decision_id), None)
    if target is None:
        raise NotFound(f"La décision n° {decision_id} n'existe pas dans cette question.")
    if target.coder != me.name:
        raise Forbidden(
            f"La décision n° {decision_id} est celle de {target.coder} : chacun n'annule que ses propres décisions. "
            "Pour la changer, prenez une nouvelle décision."
        )
    if decision_id in undone(state.decisions):
        raise BadInput(f"La décision n° {decision_id} est déjà annulée.")
    if target.double_coding and any(
        target.excerpt_id in p.excerpt_ids and blind.is_closed(state, p)
        for p in data.double_coding_pairs(run_id)
        if p.question == question
    ):
        raise Forbidden("Ce code à l'aveugle appartient à un échantillon clos : il ne change plus.")
    data.log.decide(
        run_id, question, DecisionKind.UNDO, me.name, excerpt_id=target.excerpt_id, theme_id=target.theme_id,
        undoes_id=decision_id,
    )  # fmt: skip
    flash(request, f"Décision n° {decision_id} annulée.")
    return redirect(next_url(form, f"/runs/{quote(run_id)}/q/{number}"))
