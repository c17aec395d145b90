"""The review app: researchers review an analysis run in their browser (FastAPI, server-rendered Jinja2 pages).

Every page needs a login; viewers read, researchers and admins decide. Each action is a decision appended to the
log (``verbatim.models.decisions.DecisionLog``) and committed before the redirect that acknowledges it. Forms are
plain POSTs protected by a per-session CSRF token, answered by a redirect (post / redirect / get).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from verbatim.errors import StoreError, VerbatimError
from verbatim.models import agreement
from verbatim.models.decisions import QuestionState, Role, User
from verbatim.models.review import QUEUE, DecisionKind, ReviewStatus, ThemeState, lineage, undone
from verbatim.models.store import Store
from verbatim.review.auth import (
    DEFAULT_SECRET_FILE,
    LoginBrake,
    csrf_matches,
    new_csrf_token,
    secret_key,
    verify_password,
)
from verbatim.review.data import BadInput, NotFound, ReviewData, active_theme

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 12
DEFAULT_LOW_SCORE = 0.35
MAX_TEXT = 2000

STATUS_LABELS = {
    ReviewStatus.MACHINE: "proposé par la machine",
    ReviewStatus.QUEUED: "en file de revue",
    ReviewStatus.ACCEPTED: "accepté",
    ReviewStatus.RECODED: "recodé",
    ReviewStatus.REJECTED: "rejeté (file de revue)",
}
KIND_LABELS = {
    DecisionKind.ACCEPT: "Acceptation",
    DecisionKind.REJECT: "Rejet",
    DecisionKind.RECODE: "Recodage",
    DecisionKind.UNDO: "Annulation",
    DecisionKind.RENAME: "Renommage",
    DecisionKind.DESCRIBE: "Description",
    DecisionKind.MERGE: "Fusion",
    DecisionKind.CREATE_THEME: "Création de thème",
}
ROLE_LABELS = {Role.ADMIN: "administrateur", Role.RESEARCHER: "chercheur·e", Role.VIEWER: "lecture seule"}


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- formatting for the templates ------------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}\u202f%"


def _num(value: float | None, digits: int = 2) -> str:
    return "non défini" if value is None else f"{value:.{digits}f}".replace(".", ",")


def _date(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y %H:%M")


def _theme_name(themes: dict[int, ThemeState], theme_id: int | None) -> str:
    if theme_id is None:
        return "–"
    if theme_id == QUEUE:
        return "File de revue (aucun thème)"
    theme = themes.get(theme_id)
    return f"n° {theme_id} · {theme.label}" if theme else f"n° {theme_id}"


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters.update(pct=_pct, num=_num, date=_date)
    env.globals.update(
        theme_name=_theme_name,
        STATUS_LABELS=STATUS_LABELS,
        KIND_LABELS=KIND_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        QUEUE=QUEUE,
        quote=lambda s: quote(str(s), safe=""),
    )
    return Jinja2Templates(env=env)


# -- forms -------------------------------------------------------------------------------------------------------------
def _text(form: FormData, name: str, what: str, *, required: bool = True) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise BadInput(f"Champ manquant : {what}.")
    if len(text) > MAX_TEXT:
        raise BadInput(f"{what.capitalize()} : {MAX_TEXT} caractères au plus.")
    return text


def _int(form: FormData, name: str, what: str) -> int:
    return _parse_int(_text(form, name, what), what)


def _parse_int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadInput(f"{what.capitalize()} : un nombre entier est attendu, pas « {text[:40]} ».") from None


def _next(form: FormData, default: str) -> str:
    """Where to go after the action: a path of this site only (never another site)."""
    value = form.get("next")
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _form(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(_form)]


def current_user(request: Request) -> User:
    """The logged-in user (a dependency of every page); no session, or an account gone: log in first."""
    name = request.session.get("user")
    data: ReviewData = request.app.state.data
    user = data.log.user(name) if isinstance(name, str) else None
    if user is None:
        raise LoginRequired
    return user


def writer(request: Request, form: Form) -> User:
    """The logged-in user, allowed to decide, sending the session's CSRF token (a dependency of every action)."""
    user = current_user(request)
    if not csrf_matches(request.session.get("csrf"), form.get("csrf")):
        raise Forbidden("Jeton de sécurité absent ou périmé : rechargez la page puis recommencez.")
    if not user.can_decide:
        raise Forbidden("Votre compte est en lecture seule : vous ne pouvez pas prendre de décision.")
    return user


Reader = Annotated[User, Depends(current_user)]
Writer = Annotated[User, Depends(writer)]


def create_app(
    database_url: str | None = None,
    *,
    secret: str | None = None,
    secret_file: Path = DEFAULT_SECRET_FILE,
    secure_cookies: bool | None = None,
    low_score: float = DEFAULT_LOW_SCORE,
) -> FastAPI:
    """The review app on the store at ``database_url`` (default: ``VERBATIM_DATABASE_URL`` or data/verbatim.db).

    ``secure_cookies``: send the session cookie over https only (default: ``VERBATIM_SECURE_COOKIES=1``).
    ``low_score``: machine codes scored below it go to the review queue page."""
    data = ReviewData(Store(database_url))
    if secure_cookies is None:
        secure_cookies = os.environ.get("VERBATIM_SECURE_COOKIES", "") in ("1", "true", "yes")
    templates = _templates()
    brake = LoginBrake()
    app = FastAPI(title="Verbatim — revue", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret or secret_key(secret_file),
        session_cookie="verbatim_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.data = data

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.url.path != "/static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # -- sessions ------------------------------------------------------------------------------------------------
    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str) or not token:
            token = new_csrf_token()
            request.session["csrf"] = token
        return token

    def flash(request: Request, message: str) -> None:
        request.session["flash"] = message

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        name_in_session = request.session.get("user")
        context.update(
            csrf=csrf_token(request),
            flash=request.session.pop("flash", None),
            me=context.get("me") or (data.log.user(name_in_session) if isinstance(name_in_session, str) else None),
        )
        return templates.TemplateResponse(request, template, context, status_code=status)

    # -- errors --------------------------------------------------------------------------------------------------
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            return render(request, "error.html", 401, title="Connexion requise", message="Connectez-vous d'abord.")
        return _redirect("/login?" + urlencode({"next": target}))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", 403, title="Action refusée", message=exc.message)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return render(request, "error.html", 404, title="Introuvable", message=str(exc))

    @app.exception_handler(VerbatimError)
    async def _bad_input(request: Request, exc: VerbatimError) -> Response:
        message = str(exc)
        if isinstance(exc, StoreError):
            message = f"La base a refusé cette action : {message}"
        return render(request, "error.html", 400, title="Action impossible", message=message)

    @app.exception_handler(RequestValidationError)
    async def _bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        where = ", ".join(str(e.get("loc", ("?",))[-1]) for e in exc.errors())
        return render(request, "error.html", 400, title="Adresse invalide", message=f"Paramètre invalide : {where}.")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return render(request, "error.html", 404, title="Introuvable", message="Cette page n'existe pas.")
        if exc.status_code == 405:
            return render(request, "error.html", 405, title="Méthode refusée", message="Action non permise ici.")
        return render(request, "error.html", exc.status_code, title="Erreur", message=str(exc.detail))

    # -- login ---------------------------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> Response:
        return render(request, "login.html", next=next if next.startswith("/") and not next.startswith("//") else "/")

    @app.post("/login")
    def login(request: Request, form: Form) -> Response:
        if not csrf_matches(request.session.get("csrf"), form.get("csrf")):
            raise Forbidden("Jeton de sécurité absent ou périmé : rechargez la page de connexion.")
        name = _text(form, "name", "nom d'utilisateur", required=False)
        password = form.get("password")
        password = password if isinstance(password, str) else ""
        target = _next(form, "/")
        if brake.blocked(name):
            return render(
                request,
                "login.html",
                429,
                next=target,
                name=name,
                error="Trop d'essais pour ce compte : réessayez dans quelques minutes.",
            )
        user = data.log.user(name) if name else None
        if not verify_password(user.password_hash if user else None, password) or user is None:
            brake.failed(name)
            return render(
                request, "login.html", 401, next=target, name=name, error="Nom d'utilisateur ou mot de passe incorrect."
            )
        brake.succeeded(name)
        request.session.clear()  # a new session: nothing carried over from before the login
        request.session.update(user=user.name, csrf=new_csrf_token())
        return _redirect(target)

    @app.post("/logout")
    def logout(request: Request, form: Form) -> Response:
        if not csrf_matches(request.session.get("csrf"), form.get("csrf")):
            raise Forbidden("Jeton de sécurité absent ou périmé : rechargez la page.")
        request.session.clear()
        return _redirect("/login")

    # -- reading pages -------------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def runs_page(request: Request, me: Reader) -> Response:
        return render(request, "runs.html", me=me, runs=data.runs())

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, me: Reader, run_id: str) -> Response:
        run = data.run(run_id)
        questions = []
        for number, question in enumerate(run.questions, start=1):
            state = data.state(run_id, question)
            queue = sum(1 for c in state.codes.values() if _in_queue(c.theme_id, c.status, c.score, low_score))
            questions.append((number, question, state, agreement.progress(state), queue))
        return render(request, "run.html", me=me, run=run, questions=questions)

    @app.get("/runs/{run_id}/q/{number}", response_class=HTMLResponse)
    def question_page(request: Request, me: Reader, run_id: str, number: int) -> Response:
        run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        rows = data.theme_rows(run_id, question)
        themes = []
        for theme in state.active_themes():
            ids = state.excerpts_of(theme.theme_id)
            row = rows.get(theme.theme_id)
            reps = [e for e in (row.representative_excerpt_ids if row else []) if e in ids][:2]
            themes.append(
                {
                    "theme": theme,
                    "n_excerpts": len(ids),
                    "n_respondents": data.respondents_of(state, ids),
                    "n_decided": sum(1 for e in ids if state.codes[e].decision_id is not None),
                    "keywords": list(row.keywords or [])[:8] if row else [],
                    "representatives": data.views(state, reps),
                    "breakdown": data.breakdown(state, ids),
                }
            )
        queue = sum(1 for c in state.codes.values() if _in_queue(c.theme_id, c.status, c.score, low_score))
        return render(
            request,
            "question.html",
            me=me,
            run=run,
            number=number,
            question=question,
            state=state,
            themes=themes,
            queue=queue,
            progress=agreement.progress(state),
            lineage=_lineage(state),
        )

    @app.get("/runs/{run_id}/q/{number}/themes/{theme_id}", response_class=HTMLResponse)
    def theme_page(request: Request, me: Reader, run_id: str, number: int, theme_id: int) -> Response:
        run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        theme = state.themes.get(theme_id)
        if theme is None:
            raise NotFound(f"Le thème n° {theme_id} n'existe pas dans cette question.")
        ids = state.excerpts_of(theme_id) if theme.active else []
        views = data.views(state, ids)
        order = {ReviewStatus.MACHINE: 0, ReviewStatus.QUEUED: 0}
        views.sort(key=lambda v: (order.get(v.code.status, 1), v.code.score, v.excerpt_id))
        row = data.theme_rows(run_id, question).get(theme_id)
        reps = data.views(state, [e for e in (row.representative_excerpt_ids if row else []) if e in ids][:3])
        theme_decisions = [
            d
            for d in state.decisions
            if d.kind in (DecisionKind.RENAME, DecisionKind.DESCRIBE, DecisionKind.MERGE, DecisionKind.CREATE_THEME)
            and theme_id in (d.theme_id, d.to_theme_id)
        ]
        return render(
            request,
            "theme.html",
            me=me,
            run=run,
            number=number,
            question=question,
            state=state,
            theme=theme,
            row=row,
            excerpts=views,
            representatives=reps,
            n_respondents=data.respondents_of(state, ids),
            breakdown=data.breakdown(state, ids),
            lineage=_lineage(state),
            theme_decisions=theme_decisions,
            undone=undone(state.decisions),
            here=str(request.url.path),
        )

    @app.get("/runs/{run_id}/q/{number}/queue", response_class=HTMLResponse)
    def queue_page(request: Request, me: Reader, run_id: str, number: int, seuil: float | None = None) -> Response:
        run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        threshold = low_score if seuil is None else min(max(seuil, 0.0), 1.0)
        ids = sorted(
            (e for e, c in state.codes.items() if _in_queue(c.theme_id, c.status, c.score, threshold)),
            key=lambda e: (state.codes[e].theme_id != QUEUE, state.codes[e].score, e),
        )
        n_rejected = sum(1 for c in state.codes.values() if c.status == ReviewStatus.REJECTED)
        return render(
            request,
            "queue.html",
            me=me,
            run=run,
            number=number,
            question=question,
            state=state,
            excerpts=data.views(state, ids, with_suggestions=True),
            threshold=threshold,
            n_rejected=n_rejected,
            here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        )

    @app.get("/runs/{run_id}/q/{number}/excerpt", response_class=HTMLResponse)
    def excerpt_page(request: Request, me: Reader, run_id: str, number: int, id: str) -> Response:
        run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        view = data.excerpt_view(state, id)
        history = [d for d in state.decisions if d.excerpt_id == id]
        return render(
            request,
            "excerpt.html",
            me=me,
            run=run,
            number=number,
            question=question,
            state=state,
            e=view,
            history=history,
            undone=undone(state.decisions),
            by_id={d.id: d for d in state.decisions},
            here=f"/runs/{quote(run_id)}/q/{number}/excerpt?id={quote(id, safe='')}",
        )

    @app.get("/runs/{run_id}/agreement", response_class=HTMLResponse)
    def agreement_page(request: Request, me: Reader, run_id: str) -> Response:
        run = data.run(run_id)
        pairs = data.double_coding_pairs(run_id)
        sections = []
        for number, question in enumerate(run.questions, start=1):
            state = data.state(run_id, question)
            blind = agreement.researcher_codes(state, double_coding=True)
            pair_rows = []
            for pair in (p for p in pairs if p.question == question):
                units = set(pair.excerpt_ids)
                codes = {
                    c: {e: t for e, t in blind.get(c, {}).items() if e in units} for c in (pair.coder_a, pair.coder_b)
                }
                done = {c: len(v) for c, v in codes.items()}
                pair_rows.append((pair, done, agreement.krippendorff_alpha(codes)))
            sections.append(
                {
                    "number": number,
                    "question": question,
                    "state": state,
                    "progress": agreement.progress(state),
                    "coders": agreement.machine_vs_researchers(state),
                    "themes": agreement.acceptance_by_theme(state),
                    "alpha": agreement.krippendorff_alpha(agreement.researcher_codes(state)),
                    "pairs": pair_rows,
                }
            )
        coders = [u for u in data.log.users() if u.can_decide]
        return render(request, "agreement.html", me=me, run=run, sections=sections, coders=coders)

    @app.get("/runs/{run_id}/double-coding", response_class=HTMLResponse)
    def double_coding_page(request: Request, me: Reader, run_id: str) -> Response:
        run = data.run(run_id)
        mine = [p for p in data.double_coding_pairs(run_id) if me.name in (p.coder_a, p.coder_b)]
        sections = []
        for pair in mine:
            number = run.questions.index(pair.question) + 1 if pair.question in run.questions else 0
            if not number:
                continue
            state = data.state(run_id, pair.question)
            own = agreement.researcher_codes(state, double_coding=True).get(me.name, {})
            views = data.views(state, pair.excerpt_ids)
            other = pair.coder_b if me.name == pair.coder_a else pair.coder_a
            sections.append((number, pair, other, state, views, own))
        return render(request, "double_coding.html", me=me, run=run, sections=sections)

    # -- decisions -----------------------------------------------------------------------------------------------
    def _excerpt_in(state: QuestionState, excerpt_id: str) -> None:
        if excerpt_id not in state.codes:
            raise NotFound(f"L'extrait « {excerpt_id} » n'existe pas dans cette question.")

    def _seen(form: FormData, name: str = "seen") -> int | None:
        value = form.get(name)
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            return max(int(value), 0)
        except ValueError:
            raise BadInput("Identifiant de décision vu invalide.") from None

    @app.post("/runs/{run_id}/q/{number}/decide")
    def decide(request: Request, me: Writer, form: Form, run_id: str, number: int) -> Response:
        """One excerpt: accept, reject, recode to a theme, or recode to a new theme."""
        _run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        excerpt_id = _text(form, "excerpt_id", "extrait")
        _excerpt_in(state, excerpt_id)
        code = state.codes[excerpt_id]
        action = _text(form, "action", "action")
        seen = _seen(form)
        shown = form.get("theme")
        current = int(shown) if isinstance(shown, str) and shown.lstrip("-").isdigit() else code.theme_id
        back = _next(form, f"/runs/{quote(run_id)}/q/{number}/excerpt?id={quote(excerpt_id, safe='')}")
        if action == "accept":
            if current == QUEUE:
                raise BadInput("Cet extrait n'a pas de thème à accepter : recodez-le vers un thème.")
            data.log.decide(
                run_id,
                question,
                DecisionKind.ACCEPT,
                me.name,
                excerpt_id=excerpt_id,
                theme_id=current,
                seen_decision_id=seen,
            )
            flash(request, f"Extrait {excerpt_id} accepté dans « {_theme_name(state.themes, current)} ».")
        elif action == "reject":
            data.log.decide(
                run_id,
                question,
                DecisionKind.REJECT,
                me.name,
                excerpt_id=excerpt_id,
                theme_id=current,
                seen_decision_id=seen,
            )
            flash(request, f"Extrait {excerpt_id} rejeté : il part en file de revue.")
        elif action == "recode" or action.startswith("recode:"):
            target = _int(form, "to_theme", "thème cible") if action == "recode" else _parse_int(action[7:], "thème")
            active_theme(state, target)
            data.log.decide(
                run_id,
                question,
                DecisionKind.RECODE,
                me.name,
                excerpt_id=excerpt_id,
                theme_id=current,
                to_theme_id=target,
                seen_decision_id=seen,
            )
            flash(request, f"Extrait {excerpt_id} recodé vers « {_theme_name(state.themes, target)} ».")
        elif action == "new_theme":
            label = _text(form, "label", "nom du nouveau thème")
            new_id = data.log.create_theme(run_id, question, me.name, label, excerpt_ids=[excerpt_id])
            flash(request, f"Nouveau thème n° {new_id} « {label} » créé avec l'extrait {excerpt_id}.")
        else:
            raise BadInput(f"Action inconnue : « {action[:40]} ».")
        return _redirect(back)

    @app.post("/runs/{run_id}/q/{number}/bulk")
    def bulk(request: Request, me: Writer, form: Form, run_id: str, number: int) -> Response:
        """The selected excerpts: accept, reject, recode to a theme, or split into a new theme."""
        _run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        ids = [e for e in form.getlist("excerpt_ids") if isinstance(e, str)]
        if not ids:
            raise BadInput("Aucun extrait sélectionné : cochez au moins un extrait.")
        for e in ids:
            _excerpt_in(state, e)
        action = _text(form, "action", "action")
        back = _next(form, f"/runs/{quote(run_id)}/q/{number}")
        if action == "split":
            label = _text(form, "label", "nom du nouveau thème")
            parent = _int(form, "theme", "thème d'origine")
            active_theme(state, parent)
            new_id = data.log.create_theme(run_id, question, me.name, label, parent_theme_id=parent, excerpt_ids=ids)
            flash(request, f"{len(ids)} extrait(s) déplacé(s) vers le nouveau thème n° {new_id} « {label} ».")
            return _redirect(back)
        target = None
        if action == "recode":
            target = _int(form, "to_theme", "thème cible")
            active_theme(state, target)
        elif action == "accept":
            if any(state.codes[e].theme_id == QUEUE for e in ids):
                raise BadInput("La sélection contient des extraits sans thème : recodez-les plutôt.")
        elif action != "reject":
            raise BadInput(f"Action inconnue : « {action[:40]} ».")
        kind = {"accept": DecisionKind.ACCEPT, "reject": DecisionKind.REJECT, "recode": DecisionKind.RECODE}[action]
        items: list[dict[str, object]] = [
            {
                "kind": kind,
                "excerpt_id": e,
                "theme_id": state.codes[e].theme_id,
                "to_theme_id": target,
                "seen_decision_id": _seen(form, f"seen-{e}"),
            }
            for e in ids
        ]
        data.log.decide_many(run_id, question, me.name, items)
        verb = {"accept": "accepté(s)", "reject": "rejeté(s)", "recode": "recodé(s)"}[action]
        flash(request, f"{len(ids)} extrait(s) {verb}.")
        return _redirect(back)

    @app.post("/runs/{run_id}/q/{number}/themes/{theme_id}/edit")
    def edit_theme(request: Request, me: Writer, form: Form, run_id: str, number: int, theme_id: int) -> Response:
        """Rename and / or describe a theme (one decision for each field that changed)."""
        _run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        theme = active_theme(state, theme_id)
        label = _text(form, "label", "nom du thème")
        description = _text(form, "description", "description", required=False)
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
        return _redirect(_next(form, f"/runs/{quote(run_id)}/q/{number}/themes/{theme_id}"))

    @app.post("/runs/{run_id}/q/{number}/themes/{theme_id}/merge")
    def merge_theme(request: Request, me: Writer, form: Form, run_id: str, number: int, theme_id: int) -> Response:
        _run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        active_theme(state, theme_id)
        target = _int(form, "into", "thème dans lequel fusionner")
        active_theme(state, target)
        if target == theme_id:
            raise BadInput("Un thème ne peut pas être fusionné dans lui-même.")
        data.log.merge(run_id, question, me.name, theme_id, target)
        flash(
            request, f"« {_theme_name(state.themes, theme_id)} » fusionné dans « {_theme_name(state.themes, target)} »."
        )
        return _redirect(f"/runs/{quote(run_id)}/q/{number}/themes/{target}")

    @app.post("/runs/{run_id}/q/{number}/undo")
    def undo(request: Request, me: Writer, form: Form, run_id: str, number: int) -> Response:
        _run, question = data.question(run_id, number)
        state = data.state(run_id, question)
        decision_id = _int(form, "decision_id", "décision à annuler")
        target = next((d for d in state.decisions if d.id == decision_id), None)
        if target is None:
            raise NotFound(f"La décision n° {decision_id} n'existe pas dans cette question.")
        if decision_id in undone(state.decisions):
            raise BadInput(f"La décision n° {decision_id} est déjà annulée.")
        data.log.decide(
            run_id,
            question,
            DecisionKind.UNDO,
            me.name,
            excerpt_id=target.excerpt_id,
            theme_id=target.theme_id,
            undoes_id=decision_id,
        )
        flash(request, f"Décision n° {decision_id} annulée.")
        return _redirect(_next(form, f"/runs/{quote(run_id)}/q/{number}"))

    @app.post("/runs/{run_id}/double-coding/draw")
    def draw(request: Request, me: Writer, form: Form, run_id: str) -> Response:
        if me.role != Role.ADMIN:
            raise Forbidden("Seul un administrateur peut tirer un échantillon de double codage.")
        run = data.run(run_id)
        number = _int(form, "question", "question")
        if not 1 <= number <= len(run.questions):
            raise BadInput("Question inconnue.")
        drawn = data.draw_double_coding(
            run_id,
            run.questions[number - 1],
            _int(form, "n", "nombre d'extraits"),
            _text(form, "coder_a", "premier codeur"),
            _text(form, "coder_b", "second codeur"),
            _int(form, "seed", "graine"),
        )
        flash(request, f"{len(drawn)} extrait(s) tiré(s) pour le double codage.")
        return _redirect(f"/runs/{quote(run_id)}/agreement")

    @app.post("/runs/{run_id}/double-coding/code")
    def double_code(request: Request, me: Writer, form: Form, run_id: str) -> Response:
        run = data.run(run_id)
        number = _int(form, "question", "question")
        if not 1 <= number <= len(run.questions):
            raise BadInput("Question inconnue.")
        question = run.questions[number - 1]
        excerpt_id = _text(form, "excerpt_id", "extrait")
        if not data.double_coding_for(run_id, question, excerpt_id, me.name):
            raise Forbidden("Cet extrait ne fait pas partie de votre échantillon de double codage.")
        state = data.state(run_id, question)
        _excerpt_in(state, excerpt_id)
        theme = _int(form, "to_theme", "thème")
        if theme == QUEUE:
            data.log.decide(
                run_id,
                question,
                DecisionKind.REJECT,
                me.name,
                excerpt_id=excerpt_id,
                theme_id=state.codes[excerpt_id].theme_id,
                double_coding=True,
            )
        else:
            active_theme(state, theme)
            data.log.decide(
                run_id,
                question,
                DecisionKind.RECODE,
                me.name,
                excerpt_id=excerpt_id,
                theme_id=state.codes[excerpt_id].theme_id,
                to_theme_id=theme,
                double_coding=True,
            )
        flash(request, f"Extrait {excerpt_id} codé.")
        return _redirect(f"/runs/{quote(run_id)}/double-coding#e-{quote(excerpt_id, safe='')}")

    return app


def _in_queue(theme_id: int, status: ReviewStatus, score: float, threshold: float) -> bool:
    """Waiting in the review queue: no theme and no decision yet, or a machine code scored below ``threshold``."""
    return status == ReviewStatus.QUEUED or (status == ReviewStatus.MACHINE and score < threshold)


_RELATIONS = {"merged into": "fusionné dans", "split into": "scindé vers"}


def _lineage(state: QuestionState) -> list[tuple[int, str, int]]:
    """(from, "fusionné dans" | "scindé vers", to), for themes that exist in the codebook."""
    return [(a, _RELATIONS[relation], b) for a, relation, b in lineage(state.themes) if a in state.themes]
