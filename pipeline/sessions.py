"""Certification sessions: many candidates' dossiers reviewed in one batch, assessors assigned
(one, or two under double marking), disagreements moderated, and the jury's final result.

The batch calls the one review path (`review_and_record`) per dossier; it never orders stages
itself. Each manifest row becomes a member whose status is stored after every dossier, so a
killed batch resumes where it stopped and a rerun reviews nothing twice (a file already
reviewed with the same hash and settings is reused, not reviewed again).
"""

from __future__ import annotations

import csv
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pipeline.db.models import DossierRow, RunRow
from pipeline.db.sessions import AssignmentRow, ExamSessionRow, Moderation, SessionMemberRow, SessionStore
from pipeline.db.store import ReviewStore
from pipeline.errors import ReviewError, StorageError
from pipeline.jobqueue.model import JobRow, JobSpec
from pipeline.referentiel import Referentiel
from pipeline.reports.grid_data import bloc_results
from pipeline.review import review_and_record
from pipeline.settings import Settings, review_identity
from pipeline.types import Dossier

log = logging.getLogger(__name__)

# settings that change where things are stored or who may connect, never what a review says
STATE_LABELS = {
    "pending": "en attente",
    "running": "en cours",
    "failed": "erreur",
    "unassigned": "à affecter",
    "marking": "en évaluation",
    "moderation": "à modérer",
    "closed": "clos",
    "erased": "effacé",
}


class SessionError(ReviewError):
    """A manifest or a session command that cannot be carried out."""


# --- settings identity ----------------------------------------------------------------------------


def settings_key(settings: Settings, ref: Referentiel, module: str) -> str:
    """What makes two reviews of the same file the same review: settings, referentiel, module."""
    return review_identity(settings.model_dump(mode="json"), ref.snapshot_hash, module)


def run_settings_key(run: RunRow) -> str:
    return review_identity(run.settings or {}, run.referentiel_hash, run.module)


# --- manifest -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestRow:
    line: int
    candidate: str
    file: Path
    group: str = ""
    assessors: tuple[str, ...] = ()


def read_manifest(path: Path) -> list[ManifestRow]:
    """`candidate,file[,group][,assessor]` (`;`-separated CSV accepted too); relative files are
    read from the manifest's folder; two assessors of one dossier are separated by `|` or `/`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SessionError(f"{path}: no such manifest", f"Manifeste introuvable : {path}.") from None
    except (UnicodeDecodeError, IsADirectoryError):
        raise SessionError(
            f"{path}: not a UTF-8 CSV",
            f"« {path.name} » n’est pas un CSV en UTF-8 (enregistrez-le en CSV UTF-8).",
        ) from None
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
    missing = [c for c in ("candidate", "file") if c not in columns]
    if missing:
        raise SessionError(
            f"{path}: missing columns {missing}",
            f"Le manifeste « {path.name} » doit avoir les colonnes candidate,file (et, au choix, group, assessor) ; "
            f"il manque : {', '.join(missing)}.",
        )
    rows = []
    for i, raw in enumerate(reader, start=2):

        def cell(name: str, raw: dict[str, str | None] = raw) -> str:
            col = columns.get(name)
            return (raw.get(col) or "").strip() if col else ""

        candidate, file = cell("candidate"), cell("file")
        if not candidate and not file:
            continue
        p = Path(file).expanduser()
        if not p.is_absolute():
            p = path.parent / p
        assessors = tuple(a.strip() for a in cell("assessor").replace("/", "|").split("|") if a.strip())
        rows.append(ManifestRow(i, candidate, p, cell("group"), assessors))
    if not rows:
        raise SessionError(f"{path}: empty manifest", f"Le manifeste « {path.name} » ne liste aucun dossier.")
    return rows


# --- the batch ------------------------------------------------------------------------------------


@dataclass
class BatchItem:
    candidate: str
    file: str
    outcome: str  # reviewed | reused | skipped | queued | failed
    message: str = ""
    run_id: str | None = None


@dataclass
class BatchReport:
    items: list[BatchItem] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for i in self.items if i.outcome == outcome)

    @property
    def failed(self) -> list[BatchItem]:
        return [i for i in self.items if i.outcome == "failed"]


Started = Callable[[int, int, str], None]  # (index, total, candidate)
Finished = Callable[[BatchItem], None]
Submit = Callable[[Path, JobSpec], str]  # queue a review of this file, return the job id (pipeline/web/jobs.py)


def _nothing(*_: Any) -> None:
    return None


def add_manifest(
    store: ReviewStore,
    session_id: str,
    manifest: Path,
    settings: Settings,
    ref: Referentiel,
    actor: str = "cli",
    started: Started = _nothing,
    finished: Finished = _nothing,
    user_of: Callable[[str], str | None] = lambda _name: None,
    submit: Submit | None = None,
) -> BatchReport:
    """Review every dossier of the manifest into the session; a bad file is reported, never fatal.

    `user_of` maps a manifest assessor's name to a web account id (the web gives them access). With
    `submit` (a job queue: `DOSSIER_REVIEW_QUEUE=postgres`), each dossier to review becomes a job that
    a worker runs, like a single upload; the worker links the member to its run (`link_job`)."""
    sessions = SessionStore(store)
    sess = sessions.get(session_id)
    rows = read_manifest(manifest)
    module = ref.modality(sess.module).id
    key = settings_key(settings, ref, module)
    report = BatchReport()
    for i, row in enumerate(rows):
        started(i, len(rows), row.candidate or row.file.name)
        item = _add_one(store, sessions, sess, row, settings, ref, module, key, actor, user_of, submit)
        report.items.append(item)
        finished(item)
    return report


def _add_one(
    store: ReviewStore,
    sessions: SessionStore,
    sess: ExamSessionRow,
    row: ManifestRow,
    settings: Settings,
    ref: Referentiel,
    module: str,
    key: str,
    actor: str,
    user_of: Callable[[str], str | None],
    submit: Submit | None,
) -> BatchItem:
    name = row.file.name
    if not row.candidate:
        return BatchItem("", name, "failed", f"ligne {row.line} : nom du candidat manquant, dossier ignoré.")
    member = sessions.member_for(sess.id, row.candidate, name, row.group, str(row.file))
    item = BatchItem(row.candidate, name, "failed")
    try:
        if not row.file.is_file():
            raise SessionError(f"{row.file}: not found", f"fichier introuvable : {row.file}")
        from pipeline.jobqueue.execute import file_hash  # the one file hash (lazy: keeps start-up light)

        sha = file_hash(row.file)
        if member.status == "reviewed" and member.run_id:
            if (member.sha256, member.settings_key) == (sha, key):
                item.outcome, item.run_id, item.message = "skipped", member.run_id, "déjà analysé"
            else:
                item.outcome, item.run_id = "skipped", member.run_id
                item.message = (
                    "déjà analysé avec un autre fichier ou d’autres réglages : analyse conservée ; pour une "
                    "nouvelle version, ajoutez-la sous un autre nom de fichier"
                )
            _assign_reported(store, sessions, sess, member.id, row, settings, actor, item, user_of)
            return item
        if member.job_id and member.status == "pending" and _job_waiting(store, member.job_id):
            item.outcome, item.message = "queued", "déjà en file d’attente"
            return item
        status = "running" if submit is None else "pending"
        sessions.update_member(member.id, status=status, sha256=sha, settings_key=key, error=None, job_id=None)
        found = _recorded(store, sha, key, row.candidate)
        if found is not None:  # same file, same settings: reuse the stored review
            dossier_id, run_id, own = found
            if not own:
                dossier_id, run_id = copy_run(store, settings, dossier_id, run_id, row.candidate, actor)
            item.outcome, item.message = "reused", "même fichier déjà analysé avec les mêmes réglages : repris"
        elif submit is not None:
            assessors = tuple((a, user_of(a)) for a in row.assessors)
            spec = JobSpec(
                None, actor, "assessment", module, name, row.candidate, member_id=member.id, assessors=assessors
            )
            sessions.update_member(member.id, status="pending", job_id=submit(row.file, spec))
            item.outcome, item.message = "queued", "en file d’attente"
            return item
        else:
            _, recorded = review_and_record(
                store,
                row.file,
                module,
                settings,
                ref,
                actor=actor,
                candidate_ref=row.candidate,
                kind="assessment",
            )
            dossier_id, run_id = recorded.dossier_id, recorded.run_id
            item.outcome = "reviewed"
        sessions.update_member(member.id, status="reviewed", dossier_id=dossier_id, run_id=run_id)
        item.run_id = run_id
        _assign_reported(store, sessions, sess, member.id, row, settings, actor, item, user_of)
    except ReviewError as e:
        log.info("session %s, %s: %s", sess.id, name, e)
        item.message = e.user_message
        sessions.update_member(member.id, status="failed", error=e.user_message)
    except Exception as e:  # a batch of hundreds must not stop on one file; the error is kept
        log.exception("session %s, %s: unexpected error", sess.id, name)
        item.message = (
            f"erreur inattendue à la lecture de ce fichier ({type(e).__name__}) : vérifiez-le ou signalez-le."
        )
        sessions.update_member(member.id, status="failed", error=item.message)
    return item


def _job_waiting(store: ReviewStore, job_id: str) -> bool:
    job = _job(store, job_id)
    return job is not None and job.status in ("queued", "running")


def _job(store: ReviewStore, job_id: str | None) -> JobRow | None:
    if job_id is None:
        return None
    with store.session() as s:
        return s.get(JobRow, job_id)


def link_job(
    store: ReviewStore,
    settings: Settings,
    spec: JobSpec,
    dossier_id: str | None,
    run_id: str | None,
    error: str | None,
) -> dict[str, str | None]:
    """The worker's last step for a session member's job, before it is acknowledged: the member gets
    the run (a copy of its own when that run is already another member's) and the manifest's
    assessors, or the job's error. Idempotent. Returns the dossier and run the job row should show."""
    sessions = SessionStore(store)
    try:
        member = sessions.member(spec.member_id or "")
    except StorageError:  # the session is gone
        return {}
    if member.status == "reviewed" and member.run_id:  # linked by an earlier attempt
        return {"dossier_id": member.dossier_id, "run_id": member.run_id}
    if dossier_id is None or run_id is None:
        sessions.update_member(member.id, status="failed", error=error or "analyse non faite")
        return {}
    try:
        if not _own(store, dossier_id, member) or _linked_elsewhere(store, run_id, member.id):
            dossier_id, run_id = copy_run(store, settings, dossier_id, run_id, member.candidate, spec.actor)
    except ReviewError as e:
        sessions.update_member(member.id, status="failed", error=e.user_message)
        return {}
    key = run_settings_key(store.run(run_id))
    sessions.update_member(member.id, status="reviewed", dossier_id=dossier_id, run_id=run_id, settings_key=key)
    item = BatchItem(member.candidate, member.file_name, "reviewed")
    names = tuple(name for name, _ in spec.assessors)
    row = ManifestRow(0, member.candidate, Path(member.file_path), member.group_name, names)
    sess = sessions.get(member.session_id)
    _assign_reported(store, sessions, sess, member.id, row, settings, spec.actor, item, dict(spec.assessors).get)
    if item.message:  # an assignment refused: the review stays done
        sessions.update_member(member.id, error=item.message)
    return {"dossier_id": dossier_id, "run_id": run_id}


def _own(store: ReviewStore, dossier_id: str, member: SessionMemberRow) -> bool:
    """The dossier row is one a session batch makes for this candidate (not another's, not an upload)."""
    d = store.dossier(dossier_id)
    mine = (d.candidate_ref, d.kind, d.owner_id, d.group_id, d.assessor_id)
    return mine == (member.candidate, "assessment", None, None, None)


def _linked_elsewhere(store: ReviewStore, run_id: str, member_id: str) -> bool:
    with store.session() as s:
        members = s.scalars(
            select(SessionMemberRow.id).where(SessionMemberRow.run_id == run_id, SessionMemberRow.id != member_id)
        ).first()
        assigned = s.scalars(select(AssignmentRow.id).where(AssignmentRow.run_id == run_id)).first()
    return members is not None or assigned is not None


def _assign_reported(
    store: ReviewStore,
    sessions: SessionStore,
    sess: ExamSessionRow,
    member_id: str,
    row: ManifestRow,
    settings: Settings,
    actor: str,
    item: BatchItem,
    user_of: Callable[[str], str | None],
) -> None:
    """The manifest's assessors; a refused assignment is reported, the review stays done."""
    try:
        _assign_from_manifest(store, sessions, sess, member_id, row.assessors, settings, actor, user_of)
    except ReviewError as e:
        item.message = " ; ".join(x for x in (item.message, f"affectation non faite : {e.user_message}") if x)


def _recorded(store: ReviewStore, sha: str, key: str, candidate: str) -> tuple[str, str, bool] | None:
    """A stored run of this file under the same settings: (dossier, run, belongs to this candidate and
    to no session member yet — a batch killed between the record and the member update)."""
    with store.session() as s:
        q = (
            select(RunRow, DossierRow)
            .join(DossierRow, DossierRow.id == RunRow.dossier_id)
            .where(DossierRow.sha256 == sha, DossierRow.erased_at.is_(None), RunRow.status == "done")
            .order_by(RunRow.created_at)
        )
        candidates = [(r, d) for r, d in s.execute(q).all() if run_settings_key(r) == key]
        if not candidates:
            return None
        linked = set(s.scalars(select(SessionMemberRow.run_id).where(SessionMemberRow.run_id.is_not(None))))
        linked |= set(s.scalars(select(AssignmentRow.run_id).where(AssignmentRow.run_id.is_not(None))))
    for r, d in candidates:
        if d.candidate_ref == candidate and d.kind == "assessment" and r.id not in linked:
            return d.id, r.id, True
    r, d = candidates[0]
    return d.id, r.id, False


def copy_run(
    store: ReviewStore,
    settings: Settings,
    dossier_id: str,
    run_id: str,
    candidate: str,
    actor: str,
    assessor_id: str | None = None,
) -> tuple[str, str]:
    """A dossier row and a run of their own holding the same stored review (nothing is reviewed again)."""
    d = store.dossier(dossier_id)
    if d.parsed is None or not d.stored_path or not Path(d.stored_path).is_file():
        raise StorageError(f"dossier {dossier_id}: no stored file", "Le fichier de ce dossier n’est plus conservé.")
    review = store.review(run_id)
    ref = store.referentiel(run_id)
    new_dossier = store.add_dossier(
        Path(d.stored_path),
        Dossier.model_validate(d.parsed),
        d.module,
        settings.files_dir,
        candidate_ref=candidate,
        uploaded_by=actor,
        kind="assessment",
        assessor_id=assessor_id,
    )
    new_run = store.add_run(new_dossier, review.model_copy(update={"run_id": uuid.uuid4().hex}), ref, actor=actor)
    return new_dossier, new_run


# --- assessors ------------------------------------------------------------------------------------


def assign(
    store: ReviewStore,
    settings: Settings,
    member_id: str,
    assessors: list[tuple[str, str | None]],
    by: str,
) -> list[AssignmentRow]:
    """Give the dossier to one assessor (two under double marking: `(name, user id or None)`).

    The first marks the member's run; the second gets a run of their own on the same review.
    """
    sessions = SessionStore(store)
    member = sessions.member(member_id)
    sess = sessions.get(member.session_id)
    want = 2 if sess.double_marking else 1
    names = [n for n, _ in assessors]
    if not assessors or len(assessors) > want:
        raise SessionError(
            "wrong number of assessors",
            f"Ce dossier attend {want} évaluateur(s) ({'double correction' if want == 2 else 'simple correction'}).",
        )
    if len(set(n.casefold() for n in names)) != len(names):
        raise SessionError("same assessor twice", "Les deux correcteurs d’un dossier doivent être deux personnes.")
    if member.run_id is None or member.dossier_id is None:
        raise SessionError(
            f"member {member_id} not reviewed", f"Le dossier de {member.candidate} n’a pas encore été analysé."
        )
    current = {a.rank: a for a in sessions.assignments(member_id)}
    out = []
    for rank, (name, user_id) in enumerate(assessors, start=1):
        dossier_id: str | None = member.dossier_id
        run_id: str | None = member.run_id
        if rank == 2:
            prev = current.get(2)
            if prev is not None and prev.run_id:
                dossier_id, run_id = prev.dossier_id, prev.run_id
            else:
                dossier_id, run_id = copy_run(
                    store, settings, member.dossier_id, member.run_id, member.candidate, by, user_id
                )
        if user_id and dossier_id:
            _give_dossier(store, dossier_id, user_id)
        out.append(sessions.set_assignment(member_id, rank, name, by, user_id, dossier_id, run_id))
    return out


def _give_dossier(store: ReviewStore, dossier_id: str, user_id: str) -> None:
    with store.session.begin() as s:
        d = s.get(DossierRow, dossier_id)
        if d is not None:
            d.assessor_id = user_id


def _assign_from_manifest(
    store: ReviewStore,
    sessions: SessionStore,
    sess: ExamSessionRow,
    member_id: str,
    names: tuple[str, ...],
    settings: Settings,
    actor: str,
    user_of: Callable[[str], str | None],
) -> None:
    if not names or sessions.assignments(member_id):
        return
    assign(store, settings, member_id, [(n, user_of(n)) for n in names[: 2 if sess.double_marking else 1]], actor)


def assign_in_turn(
    store: ReviewStore, settings: Settings, session_id: str, assessors: list[tuple[str, str | None]], by: str
) -> list[tuple[str, list[str]]]:
    """Every reviewed dossier without assessors gets the next one(s) of `assessors` (name, user id), in turn."""
    sessions = SessionStore(store)
    sess = sessions.get(session_id)
    want = 2 if sess.double_marking else 1
    if len(assessors) < want:
        raise SessionError("too few assessors", "La double correction demande au moins deux évaluateurs.")
    done: list[tuple[str, list[str]]] = []
    turn = 0
    for m in sessions.members(session_id):
        if m.status != "reviewed" or len(sessions.assignments(m.id)) >= want:
            continue
        chosen = [assessors[(turn + j) % len(assessors)] for j in range(want)]
        turn += 1
        assign(store, settings, m.id, chosen, by)
        done.append((m.candidate, [n for n, _ in chosen]))
    return done


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    rank: int
    assessor: str
    run_id: str | None
    dossier_id: str | None
    finalized: bool
    finalized_at: Any = None


@dataclass(frozen=True)
class Disagreement:
    criterion_id: str
    levels: tuple[int, ...]
    assessors: tuple[str, ...]
    moderation: Moderation | None


@dataclass(frozen=True)
class FinalLevel:
    level: int
    comment: str
    decided_by: str
    decided_at: Any
    moderated: bool = False


@dataclass
class MemberResult:
    session: ExamSessionRow
    member: SessionMemberRow
    markers: list[Marker]
    state: str
    disagreements: list[Disagreement] = field(default_factory=list)
    final: dict[str, FinalLevel] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    blocs: dict[str, str] = field(default_factory=dict)
    job: JobRow | None = None  # the queued review of a member not reviewed yet (progress)

    @property
    def error(self) -> str | None:
        if self.member.error or self.job is None or self.state != "failed":
            return self.member.error
        return self.job.error or "analyse faite mais non rattachée au dossier : relancez l’ajout du manifeste"

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def member_result(store: ReviewStore, sess: ExamSessionRow, member: SessionMemberRow) -> MemberResult:
    """Where a dossier stands, and its final levels once every assessor has finalized (and, under
    double marking, every disagreement is moderated). Nothing of one assessor's levels is exposed
    before both have finalized."""
    sessions = SessionStore(store)
    if member.run_id is not None and member.dossier_id is None:  # the dossier was erased (RGPD)
        return MemberResult(sess, member, [], "erased")
    markers = []
    for a in sessions.assignments(member.id):
        if a.dossier_id is None:  # that assessor's copy was erased
            return MemberResult(sess, member, [], "erased")
        grid = store.grid(a.run_id) if a.run_id else None
        markers.append(
            Marker(a.rank, a.assessor, a.run_id, a.dossier_id, bool(grid and grid.locked), grid and grid.finalized_at)
        )
    if member.status in ("pending", "running", "failed") or member.run_id is None:
        return _not_reviewed(store, sess, member, markers)
    want = 2 if sess.double_marking else 1
    if len(markers) < want:
        return MemberResult(sess, member, markers, "unassigned")
    if not all(m.finalized for m in markers):
        return MemberResult(sess, member, markers, "marking")
    ref = store.referentiel(member.run_id)
    criteria = [d.criterion_id for d in store.review(member.run_id).criteria]
    decisions = [store.decisions(m.run_id) for m in markers if m.run_id]
    moderations = sessions.moderations(member.id)
    result = MemberResult(sess, member, markers, "closed")
    for cid in criteria:
        ds = [d[cid] for d in decisions]
        levels = tuple(d.level for d in ds)
        if len(set(levels)) == 1:
            comments = [d.comment for d in ds if d.comment]
            if len(ds) > 1 and comments:
                comments = [f"{m.assessor} : {d.comment}" for m, d in zip(markers, ds, strict=True) if d.comment]
            result.final[cid] = FinalLevel(
                levels[0], " / ".join(comments), ", ".join(d.assessor for d in ds), max(d.decided_at for d in ds)
            )
            continue
        mod = moderations.get(cid)
        result.disagreements.append(Disagreement(cid, levels, tuple(m.assessor for m in markers), mod))
        if mod is not None:
            result.final[cid] = FinalLevel(mod.level, mod.comment, mod.moderator, mod.decided_at, moderated=True)
    if len(result.final) < len(criteria):
        result.state = "moderation"
        return result
    for comp in ref.competencies_for(member_module(store, member)):
        result.verdicts[comp.id] = ref.verdict([result.final[k.id].level for k in comp.criteria])
    result.blocs = bloc_results(ref, member_module(store, member), result.verdicts)
    return result


def _not_reviewed(
    store: ReviewStore, sess: ExamSessionRow, member: SessionMemberRow, markers: list[Marker]
) -> MemberResult:
    """Waiting, under review or failed; a queued member follows its job (a job failed without reaching
    its member, e.g. interrupted by a restart of the embedded server, shows as failed)."""
    state = member.status if member.status != "reviewed" else "pending"
    job = _job(store, member.job_id) if state == "pending" else None
    if job is not None:
        # a job done whose member is still waiting never linked it: a rerun of the batch reuses its run
        state = {"running": "running", "failed": "failed", "done": "failed"}.get(job.status, "pending")
    return MemberResult(sess, member, markers, state, job=job)


def member_module(store: ReviewStore, member: SessionMemberRow) -> str:
    return store.run(member.run_id).module if member.run_id else ""


def session_results(store: ReviewStore, session_id: str) -> tuple[ExamSessionRow, list[MemberResult]]:
    sessions = SessionStore(store)
    sess = sessions.get(session_id)
    return sess, [member_result(store, sess, m) for m in sessions.members(session_id)]


def moderate(
    store: ReviewStore,
    session_id: str,
    member_key: str,
    criterion_id: str,
    level: int,
    moderator: str,
    comment: str = "",
) -> Moderation:
    """Settle a disagreement: only once both assessors have finalized, by someone who is neither."""
    sessions = SessionStore(store)
    sess = sessions.get(session_id)
    member = sessions.find_member(session_id, member_key)
    if not moderator.strip():
        raise SessionError("moderation without moderator", "Indiquez le nom du modérateur (--moderator).")
    result = member_result(store, sess, member)
    if result.state not in ("moderation", "closed"):
        raise SessionError(
            f"member {member.id} is {result.state}",
            f"Le dossier de {member.candidate} est « {result.state_label} » : la modération vient après la "
            "validation des deux grilles.",
        )
    if moderator.strip().casefold() in {m.assessor.casefold() for m in result.markers}:
        raise SessionError(
            "moderator is an assessor", "Le modérateur doit être une troisième personne, pas l’un des deux correcteurs."
        )
    dis = next((d for d in result.disagreements if d.criterion_id == criterion_id), None)
    if dis is None:
        raise SessionError(
            f"no disagreement on {criterion_id}",
            f"Pas de désaccord sur le critère {criterion_id} pour {member.candidate} : rien à modérer.",
        )
    scale = store.referentiel(member.run_id or "").scale
    if not scale.min_level <= level <= scale.max_level:
        raise SessionError(
            "level outside the scale", f"Niveau {level} hors échelle ({scale.min_level} à {scale.max_level})."
        )
    return sessions.moderate(member.id, criterion_id, level, list(dis.levels), comment, moderator.strip())


def status_json(store: ReviewStore, session_id: str) -> dict[str, Any]:
    """`{session, module, counts, dossiers: [{candidate, file, run_id, status, progress, assessors, verdicts}]}`."""
    sess, results = session_results(store, session_id)
    return {
        "session": sess.name,
        "session_id": sess.id,
        "module": sess.module,
        "referentiel": sess.referentiel,
        "double_marking": sess.double_marking,
        "counts": {label: sum(1 for r in results if r.state_label == label) for label in _labels(results)},
        "dossiers": [
            {
                "candidate": r.member.candidate,
                "file": r.member.file_name,
                "group": r.member.group_name,
                "member_id": r.member.id,
                "run_id": r.member.run_id,
                "status": r.state_label,
                "progress": _progress(r.job) if r.state in ("pending", "running") else None,
                "error": r.error,
                "assessors": [{"name": m.assessor, "run_id": m.run_id, "finalized": m.finalized} for m in r.markers],
                "disagreements": [
                    {
                        "criterion": d.criterion_id,
                        "levels": list(d.levels),
                        "moderated": d.moderation is not None,
                    }
                    for d in r.disagreements
                ],
                "verdicts": r.verdicts,
                "blocs": r.blocs,
            }
            for r in results
        ],
    }


def _labels(results: list[MemberResult]) -> list[str]:
    """The states present, in the order of STATE_LABELS."""
    present = {r.state for r in results}
    return [label for state, label in STATE_LABELS.items() if state in present]


def _progress(job: JobRow | None) -> dict[str, Any] | None:
    """Where a queued review stands (the job row a worker updates, from whichever machine)."""
    if job is None:
        return None
    return {"job_id": job.id, "step": job.step, "percent": job.percent}
