"""Issue 14 findings 3 and 7: after erasure, a byte search of the whole data dir finds nothing of the dossier.

Searched for, in every file under the data dir (databases, chromadb's SQLite and HNSW files,
caches, stored files), binary or not: distinctive sentences of the dossier, its SHA-256 (and
the 32-character prefix that names its index), and its chunk vectors, as exact float32 bytes
and, since chromadb normalises what it stores, as any float32 run within 1e-5 of one. Each
search is first shown to find its needles before erasure, so it cannot pass by looking wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db.models import DossierRow
from pipeline.db.sessions import SessionStore
from pipeline.db.store import ReviewStore
from pipeline.erasure import erase_dossier, purge
from pipeline.referentiel import load_referentiel
from pipeline.review import ReviewOutcome, record_review, run_review
from pipeline.settings import Settings
from pipeline.store import ChunkStore
from pipeline.web.retention import RetentionSchedule

ROOT = Path(__file__).resolve().parents[1]
REF = load_referentiel()
SAMPLE = ROOT / "samples" / "m2_hotel_moyen" / "m2_hotel_moyen.docx"
OTHER = ROOT / "samples" / "m1_agence_faible" / "m1_agence_faible.docx"


# --- the byte search ------------------------------------------------------------------------------


class Traces:
    """What identifies one dossier on disk: sentences, hash, vectors."""

    def __init__(self, outcome: ReviewOutcome) -> None:
        d = outcome.dossier
        paragraphs = [b.text for b in d.blocks if b.kind == "paragraph" and len(b.text) > 80]
        assert len(paragraphs) >= 5
        self.sha256 = d.sha256
        self.needles: dict[str, bytes] = {"sha256": d.sha256.encode(), "sha256[:32]": d.sha256[:32].encode()}
        for p in paragraphs[:: max(1, len(paragraphs) // 8)][:8]:
            # an ASCII stretch: found whether a file holds the text raw or JSON-escaped
            span = max(re.findall(r"[ -~]{30,}", p), key=len, default="")
            if len(span) >= 30:
                self.needles[f"text «{span[:30]}»"] = span[:40].encode()
            self.needles[f"sentence «{p[:30]}»"] = p.encode()
        # only the chunks that were embedded: a label-only chunk's row is zeros, which any binary file holds
        embedded = np.asarray(outcome.index.vectors, dtype=np.float32)[outcome.index.dense_mask]
        self.vectors = embedded[:: max(1, len(embedded) // 6)][:6]
        for i, v in enumerate(self.vectors):
            self.needles[f"vector {i} (float32 bytes)"] = v.tobytes()

    def found_in(self, data_dir: Path) -> list[str]:
        hits = []
        for f in sorted(data_dir.rglob("*")):
            if not f.is_file():
                continue
            blob = f.read_bytes()
            where = f.relative_to(data_dir)
            hits += [f"{name} in {where}" for name, needle in self.needles.items() if needle in blob]
            hits += [f"vector {i} (≈) in {where}" for i in _near_vectors(blob, self.vectors)]
        return hits


def _near_vectors(blob: bytes, vectors: np.ndarray, tol: float = 1e-5) -> list[int]:
    """Vectors of which a float32 copy within `tol` (at any byte alignment) is in `blob`."""
    found = []
    dim = vectors.shape[1]
    for shift in range(4):
        n = (len(blob) - shift) // 4
        if n < dim:
            continue
        arr = np.frombuffer(blob, dtype=np.float32, count=n, offset=shift)
        for i, v in enumerate(vectors):
            if i in found:
                continue
            j = int(np.argmax(np.abs(v)))  # anchor on the largest component
            with np.errstate(invalid="ignore"):
                starts = np.flatnonzero(np.abs(arr - v[j]) < tol) - j
            starts = starts[(starts >= 0) & (starts + dim <= n)]
            if any(np.allclose(arr[s : s + dim], v, atol=tol) for s in starts[:1000]):
                found.append(i)
    return found


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    data = tmp_path / "data"
    monkeypatch.setenv("DOSSIER_REVIEW_DATA_DIR", str(data))
    monkeypatch.setenv("DOSSIER_REVIEW_EMBEDDER", "hashing")
    s = Settings(data_dir=data, embedder="hashing")
    s.ensure_dirs()
    return s


def _stored(settings: Settings, path: Path = SAMPLE) -> tuple[ReviewStore, ReviewOutcome, str]:
    store = ReviewStore(settings.db_url)
    outcome = run_review(path, "M2" if path == SAMPLE else "M1", settings, REF)
    rec = record_review(store, path, outcome, REF, settings, actor="alice", candidate_ref="Cand. 07")
    return store, outcome, rec.dossier_id


def _session_member(store: ReviewStore, sha256: str) -> None:
    """A certification session's member for the file (sessions keep the hash to resume a batch)."""
    sessions = SessionStore(store)
    sid = sessions.create("MDC juin 2027", "M2", REF.ref, False, "admin")
    member = sessions.member_for(sid, "Cand. 07", "dossier.docx", "Lyon", "/tmp/dossier.docx")
    sessions.update_member(member.id, sha256=sha256)


def _cli(*args: str) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.output, r.exception)
    return r.output


# --- erasure --------------------------------------------------------------------------------------


def test_erase_leaves_no_text_hash_or_vector_in_the_data_dir(settings: Settings) -> None:
    _cli("parse", str(SAMPLE))  # a copy made before the review, by another command
    _cli("retrieve", str(SAMPLE), "--criterion", "C6.1")
    store, outcome, did = _stored(settings)
    _stored(settings, OTHER)  # another candidate's dossier, in the same stores
    _session_member(store, outcome.dossier.sha256)
    traces = Traces(outcome)
    before = traces.found_in(settings.data_dir)
    kinds = {h.split(" ", 1)[0] for h in before}
    assert {"sha256", "text", "sentence", "vector"} <= kinds, before
    assert any("chroma" in h and h.startswith("vector") for h in before), before
    erase_dossier(store, settings, did, "dpo")
    assert traces.found_in(settings.data_dir) == []
    # the other dossier is whole and its index still answers
    other = [d for d in store.session().scalars(sa.select(DossierRow))]
    assert len(other) == 1 and other[0].sha256 != outcome.dossier.sha256
    again = run_review(OTHER, "M1", settings, REF)
    assert again.index.embedded == 0  # its vectors were kept, unchanged


def test_erase_by_hash_reaches_parse_retrieve_and_a_killed_review(settings: Settings, tmp_path: Path) -> None:
    """Copies no dossier row points to: `parse`, `retrieve`, and a review killed while drafting."""
    _cli("parse", str(OTHER))
    _cli("retrieve", str(OTHER), "--criterion", "C1.1")
    _kill_review_while_drafting(OTHER, settings, tmp_path)
    probe = run_review(OTHER, "M1", settings.model_copy(update={"data_dir": tmp_path / "probe"}), REF)
    traces = Traces(probe)
    store = ReviewStore(settings.db_url)
    assert store.count(DossierRow) == 0
    _session_member(store, traces.sha256)  # a session batch that stopped on this file
    before = traces.found_in(settings.data_dir)
    assert any(h.startswith("sentence") and "parsed" in h for h in before), before
    assert any(h.startswith("vector") and "chroma" in h for h in before), before
    out = _cli("erase", "--sha256", traces.sha256, "--yes", "--by", "dpo")
    assert "0 dossier(s)" in out
    assert traces.found_in(settings.data_dir) == []


def _kill_review_while_drafting(path: Path, settings: Settings, tmp_path: Path) -> None:
    """Start `review` against a model server that never answers; kill -9 it once it asks."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(120)
        env = {
            **os.environ,
            "DOSSIER_REVIEW_DATA_DIR": str(settings.data_dir),
            "DOSSIER_REVIEW_EMBEDDER": "hashing",
            "DOSSIER_REVIEW_BACKEND": "openai",
            "DOSSIER_REVIEW_LLM_BASE_URL": f"http://127.0.0.1:{server.getsockname()[1]}/v1",
            "DOSSIER_REVIEW_LLM_API_KEY": "test",
            "DOSSIER_REVIEW_LLM_MAX_RETRIES": "0",
        }
        proc = subprocess.Popen(
            [sys.executable, "-c", "from pipeline.cli import app; app()", "review", str(path), "--module", "M1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            conn, _ = server.accept()  # parsed, indexed, retrieved: now drafting
            conn.close()
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)


# --- retention ------------------------------------------------------------------------------------


def _age(store: ReviewStore, settings: Settings, dossier_id: str, sha256: str, days: float) -> None:
    """Make a dossier (its upload date) and its caches look `days` old."""
    then = time.time() - days * 86400
    with store.session.begin() as s:
        s.execute(
            sa.update(DossierRow)
            .where(DossierRow.id == dossier_id)
            .values(uploaded_at=dt.datetime.fromtimestamp(then, dt.UTC))
        )
    for f in (settings.cache_dir / "parsed").glob(f"{sha256}-*.json"):
        os.utime(f, (then, then))


def test_purge_erases_old_dossiers_and_unattached_copies(settings: Settings) -> None:
    store, old, old_id = _stored(settings)
    _age(store, settings, old_id, old.dossier.sha256, days=40)
    _, fresh, fresh_id = _stored(settings, OTHER)
    old_traces, fresh_traces = Traces(old), Traces(fresh)
    # an unattached copy (parse + index, no dossier row): a review that never reached the store
    stray = ROOT / "samples" / "m2_injection_velo" / "m2_injection_velo.docx"
    stray_traces = Traces(run_review(stray, "M2", settings, REF))
    done = purge(store, settings, 30)
    assert (done.dossiers, done.runs, done.unattached) == (1, 1, 0)
    assert old_traces.found_in(settings.data_dir) == []
    assert fresh_traces.found_in(settings.data_dir) and stray_traces.found_in(settings.data_dir)
    done = purge(store, settings, 30, now=time.time() + 31 * 86400)  # a month later
    assert (done.dossiers, done.runs, done.unattached) == (1, 1, 1)
    assert fresh_traces.found_in(settings.data_dir) == [] and stray_traces.found_in(settings.data_dir) == []
    audit = store.audit()
    assert [a.action for a in audit] == ["erase", "erase"] and all("conservation" in a.actor for a in audit)
    assert fresh_id not in json.dumps([a.detail for a in audit])


def test_purge_command_and_web_schedule(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store, old, old_id = _stored(settings)
    _age(store, settings, old_id, old.dossier.sha256, days=40)
    refused = CliRunner().invoke(app, ["purge", "--yes"])
    assert refused.exit_code == 2 and "durée de conservation" in refused.output
    monkeypatch.setenv("DOSSIER_REVIEW_RETENTION_DAYS", "30")
    out = _cli("purge", "--yes")
    assert "1 dossier(s)" in out and store.count(DossierRow) == 0
    # the web server's schedule
    _, old2, old2_id = _stored(settings, OTHER)
    _age(store, settings, old2_id, old2.dossier.sha256, days=40)
    schedule = RetentionSchedule(store, settings.model_copy(update={"retention_days": 30}), first_after_s=0)
    schedule.start()
    deadline = time.monotonic() + 120
    while schedule.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    schedule.stop()
    assert schedule.runs >= 1 and store.count(DossierRow) == 0
    assert Traces(old2).found_in(settings.data_dir) == []


def test_erasure_drops_the_legacy_shared_passage_cache(settings: Settings) -> None:
    """Before per-dossier caching, every dossier's passages were cached in one shared collection."""
    import chromadb

    store, outcome, did = _stored(settings)
    client = chromadb.PersistentClient(
        path=str(settings.chroma_dir),
        settings=chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False),  # as ChunkStore opens it
    )
    legacy = client.get_or_create_collection("embcache-hashing", embedding_function=None)
    legacy.upsert(ids=["x"], embeddings=[outcome.index.vectors[0].tolist()])
    erase_dossier(store, settings, did, "dpo")
    assert "embcache-hashing" not in [c.name for c in client.list_collections()]
    assert Traces(outcome).found_in(settings.data_dir) == []
    assert ChunkStore.collection_name(outcome.dossier.sha256) not in [c.name for c in client.list_collections()]


def test_compact_index_command_for_a_shared_chromadb_server(settings: Settings) -> None:
    """A chromadb server's files are on its host: deleting leaves the bytes, the command removes them."""
    import chromadb

    _, outcome, _ = _stored(settings)
    client = chromadb.PersistentClient(
        path=str(settings.chroma_dir),
        settings=chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False),
    )
    client.delete_collection(ChunkStore.collection_name(outcome.dossier.sha256))  # as a server would
    traces = Traces(outcome)
    assert [h for h in traces.found_in(settings.chroma_dir) if h.startswith(("vector", "sha256"))]
    out = _cli("compact-index", str(settings.chroma_dir))
    assert "compacté" in out
    assert traces.found_in(settings.chroma_dir) == []
    missing = CliRunner().invoke(app, ["compact-index", str(settings.data_dir / "nowhere")])
    assert missing.exit_code == 2 and "Aucun index" in missing.output


def test_erasure_takes_the_candidate_name_out_of_session_members(settings: Settings) -> None:
    """A session member of an erased dossier (here the second assessor's copy under double marking) or
    of an erased file that never became a dossier keeps its place in the session, not the name."""
    from pipeline.erasure import ERASED_CANDIDATE, erase_file
    from pipeline.jobqueue.execute import file_hash
    from pipeline.jobqueue.model import JobRow
    from pipeline.sessions import assign, status_json

    store, outcome, did = _stored(settings)
    sessions = SessionStore(store)
    sid = sessions.create("MDC juin 2027", "M2", REF.ref, True, "admin")
    ana = sessions.member_for(sid, "Ana Lopes-Ferreira", "lopes_ferreira.docx", "Lyon", "/depot/lopes_ferreira.docx")
    sessions.update_member(
        ana.id, status="reviewed", sha256=outcome.dossier.sha256, dossier_id=did, run_id=outcome.review.run_id
    )
    copy = assign(store, settings, ana.id, [("Claire Petit", None), ("Marc Lenoir", None)], "admin")[1].dossier_id
    bruno = sessions.member_for(
        sid, "Bruno Keller-Vasseur", "keller_vasseur.docx", "Lyon", "/depot/keller_vasseur.docx"
    )
    job_id = uuid.uuid4().hex  # his review still waits in the queue, on a copy of his file
    queued = settings.uploads_dir / job_id / "keller_vasseur.docx"
    queued.parent.mkdir(parents=True)
    shutil.copy(OTHER, queued)
    with store.session.begin() as s:
        s.add(
            JobRow(
                id=job_id,
                user_id=None,
                kind="assessment",
                module="M1",
                file_name=queued.name,
                candidate_ref="Bruno Keller-Vasseur",
                status="queued",
            )
        )
    sessions.update_member(bruno.id, status="pending", sha256=file_hash(OTHER), job_id=job_id)
    kept = sessions.member_for(sid, "Chloé Martin", "martin.docx", "Lyon", "/depot/martin.docx")

    assert copy is not None
    erase_dossier(store, settings, copy, "dpo")
    erase_file(store, settings, file_hash(OTHER), "dpo")

    members = {m.id: m for m in sessions.members(sid)}
    for m in (members[ana.id], members[bruno.id]):
        assert (m.candidate, m.file_path, m.sha256) == (ERASED_CANDIDATE, "", None)
        assert "lopes" not in (m.error or "").lower() and "keller" not in (m.error or "").lower()
    assert members[kept.id].candidate == "Chloé Martin"
    assert not queued.parent.exists() and store.count(JobRow) == 0  # the queued job never runs
    states = {d["member_id"]: d["status"] for d in status_json(store, sid)["dossiers"]}
    assert states[ana.id] == "effacé" and states[bruno.id] == "erreur"
    leftovers = [
        p
        for p in settings.data_dir.rglob("*")
        if p.is_file() and re.search(rb"Lopes|Ferreira|Keller|Vasseur", p.read_bytes())
    ]
    assert leftovers == []
