"""RGPD erasure and retention: database rows, stored file, vectors, parse and model caches.

Everything derived from a file is keyed by the file's SHA-256: the parse cache
(`cache/parsed/<sha>-*.json`), the model answers (`cache/llm/<sha>/`) and the chunk index
(the chromadb collection `d-<sha prefix>`). `parse`, `retrieve` and a review stopped before it
was stored leave these without a dossier row, so erasure works by hash too, and the retention
purge also sweeps such unattached copies.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, delete, or_, select, update

from pipeline.db.accounts import AccountStore
from pipeline.db.models import DossierRow
from pipeline.db.sessions import AssignmentRow, SessionMemberRow
from pipeline.db.store import ReviewStore
from pipeline.embeddings import embedder_for
from pipeline.errors import ReviewError, StorageError
from pipeline.ingest import parsed_cache_files
from pipeline.jobqueue.model import JobRow
from pipeline.settings import Settings
from pipeline.store import DOSSIER_PREFIX, ChunkStore

_SHA256 = re.compile(r"[0-9a-f]{64}")
ERASED_CANDIDATE = "[candidat effacé]"  # a session member's name once its dossier is erased
ERASED_FILE = "[fichier effacé]"
ERASED_MEMBER = "dossier effacé (RGPD) avant son analyse"


def _has_index(settings: Settings) -> bool:
    return bool(settings.chroma_url) or settings.chroma_dir.exists()


def _chunk_store(settings: Settings) -> ChunkStore:
    return ChunkStore(settings.chroma_dir, embedder_for(settings), settings.embed_max_chars, url=settings.chroma_url)


def _erase_copies(settings: Settings, sha256: str) -> None:
    """Vectors first (their compaction may fail while the index is busy: then nothing else is gone yet)."""
    if _has_index(settings):
        _chunk_store(settings).erase(sha256)
    _erase_caches(settings, sha256)


def _erase_caches(settings: Settings, sha256: str) -> None:
    shutil.rmtree(settings.cache_dir / "llm" / sha256, ignore_errors=True)
    shutil.rmtree(settings.cache_dir / "pages" / sha256, ignore_errors=True)  # page images (web/pages_img.py)
    for cached in parsed_cache_files(settings, sha256):
        cached.unlink(missing_ok=True)


def _forget_hash(store: ReviewStore, settings: Settings, sha256: str | None, dossier_ids: Collection[str] = ()) -> None:
    """Rows of other features that keep the file's hash or the candidate's name: session members.

    A member of an erased dossier (its own, or an assessor's copy under double marking), or of the
    file when it never became a dossier (failed, still queued), stays in its session (counts,
    moderation history) under a placeholder name, without file name, path, hash or job; any other
    member of the file only loses the hash (kept to resume a batch)."""
    with store.session.begin() as s:
        copies = select(AssignmentRow.member_id).where(AssignmentRow.dossier_id.in_(dossier_ids))
        erased = or_(SessionMemberRow.dossier_id.in_(dossier_ids), SessionMemberRow.id.in_(copies))
        if sha256 is not None:
            erased = or_(erased, and_(SessionMemberRow.sha256 == sha256, SessionMemberRow.dossier_id.is_(None)))
        jobs = []
        for m in s.scalars(select(SessionMemberRow).where(erased)):
            jobs += [m.job_id] if m.job_id else []
            m.candidate, m.file_name, m.file_path, m.sha256, m.job_id = ERASED_CANDIDATE, ERASED_FILE, "", None, None
            m.error = None
            if m.run_id is None:  # never reviewed: it will not be (a rerun of the manifest adds it anew)
                m.status, m.error = "failed", ERASED_MEMBER
        if jobs:  # a queued review of the file: its job (file name, candidate) and its copy go; it never runs
            s.execute(delete(JobRow).where(JobRow.id.in_(jobs)))
        if sha256 is not None:
            s.execute(update(SessionMemberRow).where(SessionMemberRow.sha256 == sha256).values(sha256=None))
    for job_id in jobs:
        shutil.rmtree(settings.uploads_dir / job_id, ignore_errors=True)


def erase_dossier(store: ReviewStore, settings: Settings, dossier_id: str, actor: str) -> int:
    """Erase everything derived from the dossier; keep one anonymised audit line. Returns runs erased."""
    sha = store.dossier(dossier_id).sha256
    _erase_copies(settings, sha)
    _forget_hash(store, settings, sha, [dossier_id])
    _, runs = store.erase(dossier_id, actor)
    return len(runs)


def erase_candidate(store: ReviewStore, settings: Settings, user_id: str, actor: str) -> int:
    """Erase a candidate's account and every dossier it uploaded, as `erase_dossier` does for each.
    Returns the dossiers erased."""
    accounts = AccountStore(store.session)
    user = accounts.user(user_id)
    if user is None or user.role != "candidate":
        raise StorageError(f"candidate {user_id} not found", "Compte de candidat introuvable.")
    with store.session() as s:
        ids = list(s.scalars(select(DossierRow.id).where(DossierRow.owner_id == user_id)))
    for dossier_id in ids:
        erase_dossier(store, settings, dossier_id, actor)
    accounts.erase_user(user_id, actor)
    store.compact()
    return len(ids)


def check_sha256(value: str) -> str:
    sha = value.strip().lower()
    if not _SHA256.fullmatch(sha):
        raise ReviewError(
            f"not a sha256: {value!r}",
            f"« {value} » n’est pas une empreinte SHA-256 (64 caractères hexadécimaux, affichée par "
            "`dossier-review parse` ou calculée par `sha256sum fichier`).",
        )
    return sha


def erase_file(store: ReviewStore, settings: Settings, sha256: str, actor: str) -> tuple[int, int]:
    """Erase every dossier stored from this file and every copy derived from it, stored or not.

    Returns (dossiers, runs) erased; (0, 0) still removes the parse cache and index of a file
    that was only parsed, retrieved, or reviewed without being stored.
    """
    sha = check_sha256(sha256)
    with store.session() as s:
        ids = list(s.scalars(select(DossierRow.id).where(DossierRow.sha256 == sha)))
    _erase_copies(settings, sha)
    _forget_hash(store, settings, sha, ids)
    runs = sum(len(store.erase(did, actor)[1]) for did in ids)
    if not ids:
        store.compact()  # no row erased, but the hash was overwritten
    return len(ids), runs


@dataclass(frozen=True)
class Purged:
    dossiers: int
    runs: int
    unattached: int  # files with copies (parse, index, model answers) but no dossier row


def purge(
    store: ReviewStore, settings: Settings, days: int, actor: str = "conservation", now: float | None = None
) -> Purged:
    """Erase dossiers uploaded more than `days` days ago, and copies of files never stored as dossiers
    (parse cache, index, model answers) left untouched for as long."""
    if days < 1:
        raise ReviewError(
            f"retention of {days} days",
            "Indiquez une durée de conservation d’au moins un jour (--days N ou DOSSIER_REVIEW_RETENTION_DAYS).",
        )
    now = time.time() if now is None else now
    cutoff = now - days * 86400
    with store.session() as s:
        rows = list(s.execute(select(DossierRow.id, DossierRow.sha256, DossierRow.uploaded_at)))
    old = [(did, sha) for did, sha, at in rows if _epoch(at) < cutoff]
    held = {sha for did, sha, at in rows if _epoch(at) >= cutoff}  # files a newer dossier still holds
    chunks = _chunk_store(settings) if _has_index(settings) else None
    files = {sha for _, sha in old if sha not in held}
    stale = [key for key, at in _unattached(settings, chunks, held | files).items() if at < cutoff]
    if chunks is not None:  # vectors first, in one compaction
        chunks.drop_collections(sorted({ChunkStore.collection_name(key) for key in files | set(stale)}))
    for sha in files | {key for key in stale if len(key) == 64}:
        _erase_caches(settings, sha)
        _forget_hash(store, settings, sha)
    _forget_hash(store, settings, None, [did for did, _ in old])
    runs = sum(len(store.erase(did, actor)[1]) for did, _ in old)
    if stale and not old:
        store.compact()
    return Purged(len(old), runs, len(stale))


def _unattached(settings: Settings, chunks: ChunkStore | None, held: set[str]) -> dict[str, float]:
    """Copies of files no dossier holds → when they last changed (epoch seconds).

    Keyed by the full sha256, or by its 32-character prefix for an index whose file left no cache.
    """
    seen: dict[str, float] = {}
    for f in (settings.cache_dir / "parsed").glob("*.json"):
        sha = f.name.split("-", 1)[0]
        if _SHA256.fullmatch(sha) and sha not in held:
            seen[sha] = max(seen.get(sha, 0.0), f.stat().st_mtime)
    llm = settings.cache_dir / "llm"
    if llm.is_dir():
        for d in llm.iterdir():
            if _SHA256.fullmatch(d.name) and d.name not in held:
                seen[d.name] = max(seen.get(d.name, 0.0), _newest(d))
    if chunks is not None:
        held_prefixes = {sha[:32] for sha in held}
        full = {sha[:32]: sha for sha in seen}
        for name, created in chunks.dossier_collections().items():
            prefix = name[len(DOSSIER_PREFIX) :]
            if prefix in held_prefixes:
                continue
            at = created if created is not None else 0.0  # made before creation dates were recorded: old
            key = full.get(prefix, prefix)
            seen[key] = max(seen.get(key, 0.0), at)
    return seen


def _newest(folder: Path) -> float:
    return max([folder.stat().st_mtime, *(f.stat().st_mtime for f in folder.rglob("*"))])


def _epoch(at: dt.datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp()
