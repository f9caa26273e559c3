"""The administrator's page: accounts (create, password, deactivate, role), groups and their
members, dossier assignment, and RGPD erasure of a dossier or a candidate after a confirmation
step. Every change is audited with the administrator's name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from pipeline.db.accounts import ROLE_LABELS, ROLES, UserRow
from pipeline.db.models import DecisionRow, DossierRow, RunRow
from pipeline.erasure import erase_candidate, erase_dossier
from pipeline.errors import StorageError
from pipeline.web.access import visible_dossiers
from pipeline.web.deps import State, not_found, require_role, verify_csrf
from pipeline.web.render import page

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
Admin = Annotated[UserRow, Depends(require_role("admin"))]
CONFIRM = "oui"


def _admin_page(
    request: Request,
    state: State,
    user: UserRow,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    users = state.accounts.users()
    groups_of = {u.id: state.accounts.groups_of(u.id) for u in users}
    dossiers = visible_dossiers(state, user)
    unassigned = [d for d in dossiers if d.kind == "assessment" and d.assessor_id is None]
    return page(
        request,
        "admin.html",
        status=status,
        error=error,
        notice=notice,
        users=users,
        roles=ROLES,
        groups=state.accounts.groups(),
        memberships={uid: [g.name for g in gs] for uid, gs in groups_of.items()},
        member_pairs=[(u, g) for u in users for g in groups_of[u.id]],
        unassigned=unassigned,
        assessors=[u for u in users if u.role == "assessor"],
        dossiers=dossiers,
        candidates=[u for u in users if u.role == "candidate"],
    )


def _outcome(request: Request, state: State, user: UserRow, change: Callable[[], str]) -> Response:
    """Make the change and show the page with what it did; a refused change shows its French reason."""
    try:
        notice = change()
    except StorageError as e:
        return _admin_page(request, state, user, status=400, error=e.user_message)
    return _admin_page(request, state, user, notice=notice)


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, state: State, user: Admin) -> Response:
    return _admin_page(request, state, user)


@router.post("/admin/users", response_class=HTMLResponse)
def admin_add_user(
    request: Request,
    state: State,
    user: Admin,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=200)] = "",
    group_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:

    def change() -> str:
        new = state.accounts.add_user(username, role, password, display_name, actor=user.username)
        if group_id:
            state.accounts.add_member(group_id, new.id, actor=user.username)
        return f"Compte « {new.username} » créé."

    return _outcome(request, state, user, change)


@router.post("/admin/password", response_class=HTMLResponse)
def admin_reset_password(
    request: Request,
    state: State,
    user: Admin,
    user_id: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """A new password chosen by the administrator (audited); the account's open sessions end."""
    target = state.accounts.user(user_id)
    if target is None:
        raise not_found()

    def change() -> str:
        state.accounts.set_password(target.id, password, actor=user.username)
        return f"Mot de passe de « {target.username} » réinitialisé."

    return _outcome(request, state, user, change)


@router.post("/admin/active", response_class=HTMLResponse)
def admin_set_active(
    request: Request,
    state: State,
    user: Admin,
    user_id: Annotated[str, Form(max_length=64)],
    active: Annotated[str, Form(max_length=1)],
) -> Response:
    """Deactivate or reactivate an account (audited); an administrator cannot deactivate themself."""
    target = state.accounts.user(user_id)
    if target is None:
        raise not_found()
    if target.id == user.id and active != "1":
        return _admin_page(request, state, user, status=400, error="Vous ne pouvez pas désactiver votre propre compte.")
    changed = state.accounts.set_active(target.id, active == "1", actor=user.username)
    state_word = "réactivé" if changed.active else "désactivé (ses décisions restent)"
    return _admin_page(request, state, user, notice=f"Compte « {changed.username} » {state_word}.")


@router.post("/admin/groups", response_class=HTMLResponse)
def admin_add_group(
    request: Request,
    state: State,
    user: Admin,
    name: Annotated[str, Form(max_length=100)],
) -> Response:
    return _outcome(
        request, state, user, lambda: f"Groupe « {state.accounts.add_group(name, actor=user.username).name} » créé."
    )


@router.post("/admin/members", response_class=HTMLResponse)
def admin_add_member(
    request: Request,
    state: State,
    user: Admin,
    user_id: Annotated[str, Form(max_length=64)],
    group_id: Annotated[str, Form(max_length=64)],
) -> Response:

    def change() -> str:
        state.accounts.add_member(group_id, user_id, actor=user.username)
        return "Membre ajouté au groupe."

    return _outcome(request, state, user, change)


@router.post("/admin/assign", response_class=HTMLResponse)
def admin_assign(
    request: Request,
    state: State,
    user: Admin,
    dossier_id: Annotated[str, Form(max_length=64)],
    assessor_id: Annotated[str, Form(max_length=64)],
) -> Response:

    def change() -> str:
        state.accounts.assign_dossier(dossier_id, assessor_id, actor=user.username)
        return "Dossier confié à l’évaluateur."

    return _outcome(request, state, user, change)


@router.post("/admin/role", response_class=HTMLResponse)
def admin_set_role(
    request: Request,
    state: State,
    user: Admin,
    user_id: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    """Change an account's role (audited; its sessions end); an administrator keeps their own role."""
    target = state.accounts.user(user_id)
    if target is None:
        raise not_found()
    if target.id == user.id:
        return _admin_page(request, state, user, status=400, error="Vous ne pouvez pas changer votre propre rôle.")

    def change() -> str:
        changed = state.accounts.set_role(target.id, role, actor=user.username)
        return f"« {changed.username} » est désormais {ROLE_LABELS[changed.role]} (ses sessions sont fermées)."

    return _outcome(request, state, user, change)


@router.post("/admin/members/remove", response_class=HTMLResponse)
def admin_remove_member(
    request: Request,
    state: State,
    user: Admin,
    membership: Annotated[str, Form(max_length=130)],
) -> Response:
    """Take a trainer or a candidate out of a group (audited); `membership` is 'group_id/user_id'."""
    group_id, _, user_id = membership.partition("/")

    def change() -> str:
        state.accounts.remove_member(group_id, user_id, actor=user.username)
        return "Membre retiré du groupe (ses dossiers restent)."

    return _outcome(request, state, user, change)


@router.post("/admin/erase", response_class=HTMLResponse)
def admin_erase_ask(
    request: Request,
    state: State,
    user: Admin,
    dossier_id: Annotated[str, Form(max_length=64)] = "",
    user_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The confirmation step of an erasure: what will be erased, and a second form that does it."""
    return page(request, "admin_erase.html", target=_erasure_target(state, dossier_id, user_id))


@router.post("/admin/erase/confirm", response_class=HTMLResponse)
def admin_erase(
    request: Request,
    state: State,
    user: Admin,
    confirm: Annotated[str, Form(max_length=8)] = "",
    dossier_id: Annotated[str, Form(max_length=64)] = "",
    user_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """RGPD erasure once confirmed (audited, anonymously): a dossier, or a candidate with their dossiers."""
    target = _erasure_target(state, dossier_id, user_id)
    if confirm != CONFIRM:
        error = "Cochez la case de confirmation pour effacer."
        return page(request, "admin_erase.html", status=400, error=error, target=target)
    if target.dossier is not None:
        erase_dossier(state.store, state.settings, target.dossier.id, user.username)
        notice = f"Dossier « {target.dossier.file_name} » effacé : {target.erased_with}."
    else:
        assert target.candidate is not None
        erase_candidate(state.store, state.settings, target.candidate.id, user.username)
        notice = f"Candidat « {target.candidate.name} » effacé : {target.erased_with}."
    return _admin_page(request, state, user, notice=notice)


def count(n: int, one: str, many: str, none: str) -> str:
    """'aucune analyse', '1 analyse', '3 analyses'."""
    return none if n == 0 else f"{n} {one if n == 1 else many}"


@dataclass(frozen=True)
class ErasureTarget:
    """A dossier, or a candidate account with the dossiers it uploaded, and what goes with them."""

    dossier: DossierRow | None = None
    candidate: UserRow | None = None
    owned: list[DossierRow] = field(default_factory=list)
    runs: int = 0
    decisions: int = 0

    @property
    def erased_with(self) -> str:
        """What goes with the dossier or the account, in words."""
        if self.dossier is not None:
            runs = count(self.runs, "analyse", "analyses", "aucune analyse")
            decisions = count(self.decisions, "décision", "décisions", "aucune décision")
            return f"le fichier, son texte, ses passages indexés et ses caches, {runs} et {decisions}"
        owned = count(len(self.owned), "dossier déposé", "dossiers déposés", "aucun dossier déposé")
        return f"le compte, ses appartenances aux groupes et {owned}, avec leurs analyses"


def _erasure_target(state: State, dossier_id: str, user_id: str) -> ErasureTarget:
    """What an erasure form names; 404 for an unknown id or an account that is not a candidate's."""
    with state.store.session() as s:
        if dossier_id:
            dossier = s.get(DossierRow, dossier_id)
            if dossier is None:
                raise not_found()
            run_ids = select(RunRow.id).where(RunRow.dossier_id == dossier.id)
            runs = s.scalar(select(func.count()).select_from(run_ids.subquery())) or 0
            decisions = s.scalar(select(func.count(DecisionRow.id)).where(DecisionRow.run_id.in_(run_ids))) or 0
            return ErasureTarget(dossier=dossier, runs=runs, decisions=decisions)
        candidate = state.accounts.user(user_id) if user_id else None
        if candidate is None or candidate.role != "candidate":
            raise not_found()
        owned = list(s.scalars(select(DossierRow).where(DossierRow.owner_id == candidate.id)))
        return ErasureTarget(candidate=candidate, owned=owned)
