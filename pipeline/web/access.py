"""Who may see what. Every route that takes an id goes through one of these getters.

- admin: everything;
- assessor: the assessment dossiers assigned to them;
- candidate: their own self-check drafts, and only their formative view;
- trainer: the groups they belong to (cohort view), and the formative view of their groups'
  self-check drafts.

An id the user may not see is answered exactly like an id that does not exist (404).
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import defer

from pipeline.db.accounts import GroupRow, MembershipRow, UserRow
from pipeline.db.models import DossierRow, RunRow
from pipeline.web.deps import not_found
from pipeline.web.jobs import JobRow
from pipeline.web.state import WebState

View = Literal["workspace", "formative"]


def _group_ids(state: WebState, user: UserRow) -> set[str]:
    with state.store.session() as s:
        return set(s.scalars(select(MembershipRow.group_id).where(MembershipRow.user_id == user.id)))


def can_see(state: WebState, user: UserRow, d: DossierRow) -> bool:
    if d.erased_at is not None:
        return False
    if user.role == "admin":
        return True
    if user.role == "assessor":
        return d.kind == "assessment" and d.assessor_id == user.id
    if user.role == "candidate":
        return d.kind == "self_check" and d.owner_id == user.id
    if user.role == "trainer":
        return d.kind == "self_check" and d.group_id is not None and d.group_id in _group_ids(state, user)
    return False


def view_for(user: UserRow, d: DossierRow) -> View:
    """The assessor's workspace for an assessment; the formative view for everything else."""
    return "workspace" if d.kind == "assessment" and user.role in ("admin", "assessor") else "formative"


def can_decide(user: UserRow, d: DossierRow) -> bool:
    return d.kind == "assessment" and user.role in ("admin", "assessor")


def visible_dossiers(state: WebState, user: UserRow) -> list[DossierRow]:
    q = (  # lists never carry the parsed text (hundreds of KB per dossier): the page stays fast under load
        select(DossierRow)
        .options(defer(DossierRow.parsed, raiseload=True))
        .where(DossierRow.erased_at.is_(None))
        .order_by(DossierRow.uploaded_at.desc())
    )
    if user.role == "assessor":
        q = q.where(DossierRow.kind == "assessment", DossierRow.assessor_id == user.id)
    elif user.role == "candidate":
        q = q.where(DossierRow.kind == "self_check", DossierRow.owner_id == user.id)
    elif user.role == "trainer":
        q = q.where(DossierRow.kind == "self_check", DossierRow.group_id.in_(_group_ids(state, user)))
    elif user.role != "admin":
        return []
    with state.store.session() as s:
        return list(s.scalars(q.limit(500)))


def get_dossier(state: WebState, user: UserRow, dossier_id: str) -> DossierRow:
    with state.store.session() as s:
        d = s.get(DossierRow, dossier_id) if len(dossier_id) <= 64 else None
    if d is None or not can_see(state, user, d):
        raise not_found()
    return d


def get_run(state: WebState, user: UserRow, run_id: str) -> tuple[RunRow, DossierRow]:
    with state.store.session() as s:
        run = s.get(RunRow, run_id) if len(run_id) <= 64 else None
        d = s.get(DossierRow, run.dossier_id) if run is not None else None
    if run is None or d is None or run.status != "done" or not can_see(state, user, d):
        raise not_found()
    return run, d


def latest_runs(state: WebState, dossier_ids: list[str]) -> dict[str, RunRow]:
    """The most recent finished run of each dossier."""
    if not dossier_ids:
        return {}
    with state.store.session() as s:
        rows = s.scalars(
            select(RunRow)
            .options(defer(RunRow.review, raiseload=True))  # read through ReviewStore.review when needed
            .where(RunRow.dossier_id.in_(dossier_ids), RunRow.status == "done")
            .order_by(RunRow.created_at)
        )
        return {r.dossier_id: r for r in rows}


def get_job(state: WebState, user: UserRow, job_id: str) -> JobRow:
    job = state.jobs.job(job_id) if len(job_id) <= 64 else None
    if job is None or (job.user_id != user.id and user.role != "admin"):
        raise not_found()
    return job


def visible_groups(state: WebState, user: UserRow) -> list[GroupRow]:
    if user.role == "admin":
        return state.accounts.groups()
    if user.role == "trainer":
        return state.accounts.groups_of(user.id)
    return []


def get_group(state: WebState, user: UserRow, group_id: str) -> GroupRow:
    group = next((g for g in visible_groups(state, user) if g.id == group_id), None)
    if group is None:
        raise not_found()
    return group
