"""The runs over the API: list them, read one (questions, counts, themes), download its exports, decide on its
excerpts. Each route reads or calls what the browser's pages use (``ReviewData``, ``decide_excerpt``,
``export_file``): no rule is written twice."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse

from verbatim.models import agreement
from verbatim.models.decisions import AlreadyDecided, User
from verbatim.models.review import QUEUE, Decision, DecisionKind
from verbatim.web.actions import FamilyChange, decide_excerpt, move_to_family, rename_family
from verbatim.web.api.schemas import (
    DecisionIn,
    DecisionOut,
    FamilyChangeOut,
    FamilyRenameIn,
    Problem,
    QuestionOut,
    RunDetail,
    RunSummary,
    ThemeFamilyIn,
    ThemeOut,
)
from verbatim.web.api.security import ApiWriter, api_user
from verbatim.web.data import BadInput, KeyReused, NotFound, ReviewData
from verbatim.web.downloads import export_file, send
from verbatim.web.pages import data_of
from verbatim.web.search import Filters, run_search

router = APIRouter(dependencies=[Depends(api_user)], responses={401: {"model": Problem}})
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "unknown run or excerpt"}}
ExportName = Literal["csv", "xlsx", "codebook", "qdpx", "report", "respondents", "specificities"]


@router.get("/runs", summary="Les analyses, la plus récente d'abord")
def list_runs(request: Request) -> list[RunSummary]:
    return [
        RunSummary(
            run_id=r.run_id,
            created_at=r.created_at,
            survey_file=r.survey_file,
            questions=list(r.questions),
            n_respondents=r.n_respondents,
        )
        for r in data_of(request).runs()
    ]


@router.get("/runs/{run_id}", summary="Une analyse : ses questions, leurs comptes et leurs thèmes", responses=NOT_FOUND)
def read_run(request: Request, run_id: str) -> RunDetail:
    data = data_of(request)
    run = data.run(run_id)
    row = data.store.run(run_id)
    at_analysis = (row.manifest or {}).get("counts", {})
    questions = []
    for number, question in enumerate(run.questions, start=1):
        state = data.state(run_id, question)
        groups = data.groups(run_id, question)
        themes = []
        for theme in state.active_themes():
            ids = state.excerpts_of(theme.theme_id)
            n_respondents = groups.respondents(ids)
            themes.append(
                ThemeOut(
                    id=theme.theme_id,
                    label=theme.label,
                    description=theme.description,
                    size=len(ids),
                    n_respondents=n_respondents,
                    family_id=family.family_id if (family := state.family_of(theme.theme_id)) else None,
                    family=family.label if family else "",
                )
            )
        counts = {k: int(v) for k, v in at_analysis.get(question, {}).items() if isinstance(v, int)}
        counts.update(
            decided=agreement.progress(state).n_decided,
            review_queue=sum(1 for c in state.codes.values() if c.theme_id == QUEUE),
            active_themes=len(themes),
        )
        questions.append(QuestionOut(number=number, question=question, counts=counts, themes=themes))
    return RunDetail(
        run_id=run.run_id,
        created_at=run.created_at,
        survey_file=run.survey_file,
        n_respondents=run.n_respondents,
        seed=row.seed,
        encoder=row.encoder,
        questions=questions,
    )


@router.get(
    "/runs/{run_id}/exports/{format}",
    summary="Un export de l'analyse telle qu'elle est après la revue (fichier joint)",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"description": "the file, with its name in Content-Disposition"}},
)
def download_export(
    request: Request,
    run_id: str,
    format: ExportName,
    as_: Annotated[
        str | None,
        Query(
            alias="as",
            description="csv: csv | excel-fr; codebook: xlsx | qdc | csv; respondents: csv | excel-fr | xlsx | sav",
        ),
    ] = None,
    validated_only: Annotated[
        bool, Query(description="only excerpts accepted or recoded by a researcher (csv, xlsx, qdpx)")
    ] = False,
    sources: Annotated[
        str | None,
        Query(
            description="qdpx: respondent (one text source per answer, the default) or question (one per "
            "question, each answer a paragraph headed by its respondent id)"
        ),
    ] = None,
) -> FileResponse:
    """``csv`` / ``xlsx``: coded quotes; ``codebook``: the themes (XLSX by default); ``qdpx``: a REFI-QDA project;
    ``report``: a ZIP of report.md, report.docx and the charts; ``respondents``: one row per respondent with a 0/1
    column per theme (CSV by default)."""
    return send(export_file(data_of(request), run_id, format, as_, validated_only, sources))


#: A client's key for one decision: a retry with the same key (after no answer came) is not stored again.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="your key for this decision (up to 200 visible ASCII characters, a UUID for instance), unique "
        "per user: sent again, the decision stored the first time is answered (200) and nothing is stored",
    ),
]


@router.post(
    "/runs/{run_id}/decisions",
    status_code=201,
    summary="Accepter, rejeter ou recoder un extrait (la décision est enregistrée avant la réponse)",
    responses={
        **NOT_FOUND,
        200: {"model": DecisionOut, "description": "a retry: the decision stored the first time with this key"},
        403: {"model": Problem, "description": "a viewer's token"},
        409: {"model": Problem, "description": "the Idempotency-Key was used for another decision"},
    },
)
def post_decision(
    request: Request, response: Response, run_id: str, body: DecisionIn, me: ApiWriter, key: IdempotencyKey = None
) -> DecisionOut:
    data = data_of(request)
    try:
        # one excerpt's state, not the whole question's: a decision's cost does not grow with the run
        state = data.log.excerpt_state(run_id, body.excerpt_id, sent_before=(me.name, key) if key else None)
        if state is None or not state.themes:  # an excerpt of no run, or of a question without themes
            data.run(run_id)  # an unknown run is a 404 of its own
            raise NotFound(f"L'extrait « {body.excerpt_id[:300]} » n'existe pas dans l'analyse « {run_id} ».")
        outcome = decide_excerpt(
            data, state, me, body.excerpt_id, body.action, to_theme=body.to_theme, seen=body.seen,
            idempotency_key=key,
        )  # fmt: skip
    except AlreadyDecided as stored:  # a retry, or the same key sent by another process a moment before
        return _replay(response, run_id, body, stored)
    message = f"{outcome.message} {outcome.conflict}" if outcome.conflict else outcome.message
    return _decision_out(run_id, state.question, body.action, outcome.decision, message)


def _decision_out(run_id: str, question: str, action: str, decision: Decision, message: str) -> DecisionOut:
    if decision.kind == DecisionKind.RECODE and decision.to_theme_id is not None:
        theme_id = decision.to_theme_id
    elif decision.kind == DecisionKind.REJECT:
        theme_id = QUEUE
    else:
        theme_id = decision.theme_id if decision.theme_id is not None else QUEUE
    return DecisionOut(
        decision_id=decision.id,
        run_id=run_id,
        question=question,
        excerpt_id=decision.excerpt_id or "",
        action=action,
        theme_id=theme_id,
        conflict_with_id=decision.conflict_with_id,
        message=message,
    )


def _replay(response: Response, run_id: str, body: DecisionIn, stored: AlreadyDecided) -> DecisionOut:
    """The answer to a retry: the decision stored the first time (200, ``Idempotent-Replayed: true``), or 409 when
    the key named another decision."""
    decision = stored.decision
    action = _action_of(decision)
    target = decision.to_theme_id if action == "recode" else None
    sent = body.to_theme if body.action == "recode" else None
    if (stored.run_id, decision.excerpt_id, action, target) != (run_id, body.excerpt_id, body.action, sent):
        raise KeyReused(
            f"La clé Idempotency-Key a déjà servi à une autre décision (n° {decision.id} : {action} sur l'extrait "
            f"« {decision.excerpt_id} » de l'analyse « {stored.run_id} ») : une clé nouvelle par décision."
        )
    response.status_code = 200
    response.headers["Idempotent-Replayed"] = "true"
    message = f"Décision déjà enregistrée (n° {decision.id}) : rien de nouveau n'est enregistré."
    return _decision_out(run_id, stored.question, action, decision, message)


def _action_of(decision: Decision) -> str:
    """The API's action that made ``decision`` (an accept without a theme is a ``no_theme``)."""
    if decision.kind == DecisionKind.ACCEPT and decision.theme_id in (None, QUEUE):
        return "no_theme"
    return str(decision.kind)


FAMILY_REFUSALS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    403: {"model": Problem, "description": "a viewer's token"},
    422: {"model": Problem, "description": "a name missing or too long, a theme or family not in the question"},
}


def _family_out(data: ReviewData, run_id: str, question: str, change: FamilyChange, theme_id: int | None = None
                ) -> FamilyChangeOut:  # fmt: skip
    family = data.state(run_id, question).families.get(change.family_id)
    decision = change.decision
    return FamilyChangeOut(
        decision_id=decision.id if decision else None, run_id=run_id, question=question, family_id=change.family_id,
        family=family.label if family else "", theme_id=theme_id, coder=decision.coder if decision else None,
        created_at=decision.created_at if decision else None, message=change.message,
    )  # fmt: skip


@router.post(
    "/runs/{run_id}/questions/{number}/families/{family_id}/rename",
    summary="Renommer une famille de thèmes (une décision, dans l'historique)",
    responses={**FAMILY_REFUSALS, 200: {"description": "the family has that name already: nothing appended"}},
    status_code=201,
)
def post_family_rename(
    request: Request, response: Response, run_id: str, number: int, family_id: int, body: FamilyRenameIn,
    me: ApiWriter,
) -> FamilyChangeOut:  # fmt: skip
    """``number``: the question's (1, 2…, as in ``GET /runs/{run_id}``); ``family_id``: a family of that question
    (each theme's ``family_id`` there)."""
    data = data_of(request)
    _run, question = data.question(run_id, number)
    change = rename_family(data, data.state(run_id, question), me, family_id, body.label)
    if change.decision is None:
        response.status_code = 200
    return _family_out(data, run_id, question, change)


@router.post(
    "/runs/{run_id}/questions/{number}/themes/{theme_id}/family",
    summary="Changer un thème de famille, vers une famille existante ou nouvelle (une décision)",
    responses={**FAMILY_REFUSALS, 200: {"description": "the theme is in that family already: nothing appended"}},
    status_code=201,
)
def post_theme_family(
    request: Request, response: Response, run_id: str, number: int, theme_id: int, body: ThemeFamilyIn,
    me: ApiWriter,
) -> FamilyChangeOut:  # fmt: skip
    """``{"family_id": 2}`` moves the theme into family 2 of its question; ``{"new_label": "..."}`` into a new
    family of that name."""
    data = data_of(request)
    _run, question = data.question(run_id, number)
    state = data.state(run_id, question)
    if body.family_id is not None and body.new_label.strip():
        raise BadInput("Donnez soit family_id (une famille existante), soit new_label (une nouvelle), pas les deux.")
    change = move_to_family(data, state, me, theme_id, body.family_id, body.new_label)
    if change.decision is None:
        response.status_code = 200
    return _family_out(data, run_id, question, change, theme_id)


@router.get(
    "/runs/{run_id}/search",
    summary="Chercher un mot ou une expression dans les extraits (concordance, comptes par thème et par groupe)",
    responses={**NOT_FOUND, 422: {"model": Problem, "description": "a query that cannot be searched"}},
)
def search(
    request: Request,
    run_id: str,
    me: Annotated[User, Depends(api_user)],
    q: Annotated[str, Query(description="a word or a phrase; a trailing * for a word's beginning", max_length=200)],
    mode: Annotated[Literal["mots", "lemmes"], Query(description="mots: as written; lemmes: on lemmas")] = "mots",
    question: Annotated[int | None, Query(description="a question's number (1, 2…)")] = None,
    theme: Annotated[int | None, Query(description="a theme of that question (-1: the review queue)")] = None,
    attribute: Annotated[str | None, Query(description="a respondent attribute, with value")] = None,
    value: str = "",
    status: Annotated[str | None, Query(description="a review status (machine, accepted, recoded…)")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="hits returned at most (n counts them all)")] = 1_000,
) -> dict[str, Any]:
    """Each hit with its context (``left``, ``match``, ``right``), theme, status and respondent; counts per theme
    and per group. Case and accents are ignored."""
    filters = Filters(question, theme, attribute, value, status)
    found = run_search(data_of(request), run_id, me, q, mode, filters, shown=limit)
    return {
        "query": found.query,
        "mode": found.mode,
        "n": found.n,
        "hits": [asdict(line) for line in found.lines],
        "per_theme": [{"question": qn, "theme": t, "n": c} for _, qn, t, c in found.per_theme],
        "per_group": {a: dict(counts) for a, counts in found.per_group.items()},
    }
