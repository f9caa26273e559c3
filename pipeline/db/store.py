"""ReviewStore: the one API over the review database (runs, suggestions, decisions, grids, audit).

Decisions are inserted, never updated, so concurrent decisions lose nothing and history is
kept; the latest decision per criterion counts. A finalized grid is locked: every change is
refused, checked inside the same transaction (row lock on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, Text, cast, create_engine, event, func, make_url, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.db.models import (
    AuditRow,
    Base,
    DecisionRow,
    DossierRow,
    GridRow,
    ReferentielRow,
    RunRow,
    insert_absent,
    new_id,
    now,
)
from pipeline.errors import StorageError
from pipeline.referentiel import Referentiel, referentiel_from_snapshot
from pipeline.types import Dossier, Review

log = logging.getLogger(__name__)
_Row = TypeVar("_Row", bound=Base)
MIGRATIONS = Path(__file__).with_name("migrations")
_SERIAL = "dossier_review_serial"  # execution option: the transaction locks before its first read


@dataclass(frozen=True)
class Decision:
    criterion_id: str
    level: int
    suggested_level: int | None
    agreed: bool
    comment: str
    assessor: str
    decided_at: dt.datetime


_REVISION = re.compile(r"^(down_)?revision\s*=\s*(None|\"[^\"]*\")", re.M)


def head_revision() -> str | None:
    """The newest migration, read from the migration files (None when they do not say one)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(f.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value.strip('"'))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


class _StoredLevel(BaseModel):
    criterion_id: str  # the fields of CriterionDraft that a stored review's levels need
    level: int | None


class _StoredLevels(BaseModel):
    """The suggested levels of a stored `Review` (its other fields ignored)."""

    criteria: list[_StoredLevel]


def _decision(r: DecisionRow) -> Decision:
    return Decision(r.criterion_id, r.level, r.suggested_level, r.agreed, r.comment, r.assessor, r.decided_at)


class ReviewStore:
    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url = url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        self._refs: dict[str, Referentiel] = {}
        if migrate:
            self.migrate()

    # --- schema -------------------------------------------------------------------------------------

    def migrate(self, revision: str = "head") -> None:
        if revision == "head" and self._revision() == head_revision():
            return  # up to date: alembic (half a second of imports) is not loaded
        self._alembic("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        """Take the schema back to `revision` (the way back from an upgrade; the migration tests use it)."""
        self._alembic("downgrade", revision)

    def _alembic(self, action: str, revision: str) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)

    def _revision(self) -> str | None:
        """The database's migration (alembic_version), None before the first one."""
        try:
            with self.engine.connect() as conn:
                value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None
        return str(value) if value is not None else None

    # --- dossiers and runs --------------------------------------------------------------------------

    def add_dossier(
        self,
        source: Path,
        dossier: Dossier,
        module: str,
        files_dir: Path,
        candidate_ref: str = "",
        uploaded_by: str = "",
        **extra: Any,
    ) -> str:
        did = new_id()
        target = files_dir / did / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        with self.session.begin() as s:
            s.add(
                DossierRow(
                    id=did,
                    sha256=dossier.sha256,
                    file_name=dossier.file,
                    file_format=dossier.format,
                    module=module,
                    candidate_ref=candidate_ref,
                    uploaded_by=uploaded_by,
                    stored_path=str(target),
                    parsed=dossier.model_dump(mode="json"),
                    **extra,
                )
            )
            s.add(AuditRow(actor=uploaded_by or "cli", action="upload", dossier_id=did, detail=dossier.file))
        return did

    def add_run(self, dossier_id: str, review: Review, ref: Referentiel, actor: str = "cli") -> str:
        """Store a finished review (once, as the `Review` model) with the referentiel it was made with."""
        p = review.provenance
        with self.session.begin() as s:
            insert_absent(s, ReferentielRow, hash=ref.snapshot_hash, ref=ref.ref, data=ref.snapshot, stored_at=now())
            run = RunRow(
                id=review.run_id,
                dossier_id=dossier_id,
                module=review.module,
                backend=p.backend,
                model=p.model or p.level_model,
                referentiel=review.referentiel,
                referentiel_hash=ref.snapshot_hash,
                settings=p.settings,
                prompt_hashes=p.prompt_hashes,
                timings=p.timings,
                tokens_in=p.tokens_in,
                tokens_out=p.tokens_out,
                warnings=review.warnings,
                review=review.model_dump(mode="json"),
                status="done",
            )
            s.add(run)
            s.flush()
            s.add(GridRow(run_id=run.id, locked=False, verdicts={}))
            s.add(
                AuditRow(
                    actor=actor,
                    action="review",
                    dossier_id=dossier_id,
                    run_id=run.id,
                    detail=f"{review.module} {p.backend}",
                )
            )
        return review.run_id

    def _get(self, model: type[_Row], key: str, what: str, label: str) -> _Row:
        with self.session() as s:
            row = s.get(model, key)
            if row is None:
                raise StorageError(f"{what} {key} not found", f"{label} introuvable : {key}.")
            return row

    def run(self, run_id: str) -> RunRow:
        return self._get(RunRow, run_id, "run", "Analyse")

    def dossier(self, dossier_id: str) -> DossierRow:
        return self._get(DossierRow, dossier_id, "dossier", "Dossier")

    def runs(self, dossier_id: str | None = None) -> list[RunRow]:
        with self.session() as s:
            q = select(RunRow).order_by(RunRow.created_at.desc())
            if dossier_id:
                q = q.where(RunRow.dossier_id == dossier_id)
            return list(s.scalars(q))

    def review(self, run_id: str) -> Review:
        """The stored review, validated on read: the only way code reads a stored run's content."""
        run = self.run(run_id)
        return _review_of(run)

    def suggested_levels(self, run_ids: list[str]) -> dict[str, dict[str, int | None]]:
        """The tool's suggested level per criterion of many runs, in one query: run -> criterion -> level.

        Only the levels of each stored review are validated (`_StoredLevels`), not its evidence: a
        whole class's reviews are read in a few milliseconds (the trainer's group page)."""
        if not run_ids:
            return {}
        with self.session() as s:  # the review's JSON text, parsed and validated by pydantic in one step
            rows = list(s.execute(select(RunRow.id, cast(RunRow.review, Text)).where(RunRow.id.in_(run_ids))))
        out = {}
        for run_id, data in rows:
            if data is None or data == "null":
                raise StorageError(f"run {run_id} has no review", f"L’analyse {run_id} n’a pas de résultat enregistré.")
            out[run_id] = {c.criterion_id: c.level for c in _StoredLevels.model_validate_json(data).criteria}
        return out

    def referentiel(self, run_id: str) -> Referentiel:
        """The referentiel the run was made with, as it was then."""
        return self._referentiel(self.run(run_id).referentiel_hash)

    def _referentiel(self, ref_hash: str) -> Referentiel:
        cached = self._refs.get(ref_hash)
        if cached is None:
            row = self._get(ReferentielRow, ref_hash, "referentiel", "Référentiel")
            cached = self._refs[ref_hash] = referentiel_from_snapshot(row.data)
        return cached

    # --- decisions ----------------------------------------------------------------------------------

    def _grid_for_update(self, s: Session, run_id: str) -> GridRow:
        """The run's grid, locked until the transaction ends: call it first in the transaction.

        PostgreSQL takes a row lock (FOR UPDATE). SQLite ignores FOR UPDATE, so the transaction
        begins with BEGIN IMMEDIATE instead (`_sqlite_begin`): it holds the write lock before its
        first read, and decisions and finalize of a run never interleave.
        """
        s.connection(execution_options={_SERIAL: True})
        grid = s.execute(select(GridRow).where(GridRow.run_id == run_id).with_for_update()).scalar_one_or_none()
        if grid is None:
            raise StorageError(f"run {run_id} not found", f"Analyse introuvable : {run_id}.")
        if grid.locked:
            raise StorageError(
                f"run {run_id}: grid is locked (finalized by {grid.finalized_by})",
                f"La grille de l’analyse {run_id} est verrouillée (validée par {grid.finalized_by} le "
                f"{grid.finalized_at:%d/%m/%Y}) : elle ne peut plus être modifiée.",
            )
        return grid

    def decide(self, run_id: str, criterion_id: str, level: int, assessor: str, comment: str = "") -> Decision:
        """Record an assessor's level on the run's own scale; refused once the grid is locked."""
        if not assessor.strip():
            raise StorageError("decision without assessor", "Indiquez le nom de l’évaluateur (--assessor).")
        scale = self.referentiel(run_id).scale
        if not scale.min_level <= level <= scale.max_level:
            raise StorageError(
                f"level {level} outside the scale",
                f"Niveau {level} hors échelle ({scale.min_level} à {scale.max_level}).",
            )
        sug = self.review(run_id).draft(criterion_id)  # a stored review never changes: no lock needed
        if sug is None:
            raise StorageError(
                f"criterion {criterion_id} not in run {run_id}",
                f"Le critère {criterion_id} ne fait pas partie de cette analyse.",
            )
        with self.session.begin() as s:
            self._grid_for_update(s, run_id)
            row = DecisionRow(
                run_id=run_id,
                criterion_id=criterion_id,
                level=level,
                suggested_level=sug.level,
                agreed=sug.level == level,
                comment=comment,
                assessor=assessor,
                decided_at=now(),
            )
            s.add(row)
            s.add(
                AuditRow(
                    actor=assessor,
                    action="decide",
                    run_id=run_id,
                    detail=f"{criterion_id}={level} (suggéré {sug.level})",
                )
            )
        return _decision(row)

    def decisions(self, run_id: str) -> dict[str, Decision]:
        """The current (latest) decision per criterion."""
        with self.session() as s:
            rows = s.scalars(select(DecisionRow).where(DecisionRow.run_id == run_id).order_by(DecisionRow.id))
            return {r.criterion_id: _decision(r) for r in rows}

    def current_levels(self, run_ids: list[str]) -> dict[str, dict[str, int]]:
        """The current (latest) decided level per criterion of many runs, in one query: run -> criterion -> level."""
        if not run_ids:
            return {}
        latest = (
            select(func.max(DecisionRow.id))
            .where(DecisionRow.run_id.in_(run_ids))
            .group_by(DecisionRow.run_id, DecisionRow.criterion_id)
        )
        out: dict[str, dict[str, int]] = {r: {} for r in run_ids}
        with self.session() as s:
            q = select(DecisionRow.run_id, DecisionRow.criterion_id, DecisionRow.level)
            for run_id, criterion_id, level in s.execute(q.where(DecisionRow.id.in_(latest))):
                out[run_id][criterion_id] = level
        return out

    def history(self, run_id: str, criterion_id: str | None = None) -> list[Decision]:
        with self.session() as s:
            q = select(DecisionRow).where(DecisionRow.run_id == run_id).order_by(DecisionRow.id)
            if criterion_id:
                q = q.where(DecisionRow.criterion_id == criterion_id)
            return [_decision(r) for r in s.scalars(q)]

    def grid(self, run_id: str) -> GridRow:
        return self._get(GridRow, run_id, "run", "Analyse")

    def finalize(self, run_id: str, assessor: str) -> GridRow:
        """Lock the grid with the verdicts of the run's own referentiel; refused while a criterion is undecided."""
        ref = self.referentiel(run_id)
        criteria = [d.criterion_id for d in self.review(run_id).criteria]
        with self.session.begin() as s:
            grid = self._grid_for_update(s, run_id)
            rows = s.scalars(select(DecisionRow).where(DecisionRow.run_id == run_id).order_by(DecisionRow.id))
            current = {r.criterion_id: r.level for r in rows}
            undecided = [c for c in criteria if c not in current]
            if undecided:
                raise StorageError(
                    f"run {run_id}: {len(undecided)} criteria undecided: {', '.join(undecided)}",
                    f"Impossible de valider la grille : {len(undecided)} critère(s) sans décision de l’évaluateur "
                    f"({', '.join(undecided)}).",
                )
            verdicts = {}
            for comp in ref.competencies:
                levels: list[int | None] = [current[k.id] for k in comp.criteria if k.id in current]
                if levels:
                    verdicts[comp.id] = ref.verdict(levels)
            grid.locked, grid.finalized_by, grid.finalized_at, grid.verdicts = True, assessor, now(), verdicts
            s.add(AuditRow(actor=assessor, action="finalize", run_id=run_id, detail=str(verdicts)))
        return grid

    # --- erasure (RGPD) -----------------------------------------------------------------------------

    def erase(self, dossier_id: str, actor: str) -> tuple[str, list[str]]:
        """Delete the dossier's rows and file; keep one anonymised audit line. Returns (sha256, chunk texts hint)."""
        with self.session.begin() as s:
            d = s.get(DossierRow, dossier_id)
            if d is None:
                raise StorageError(f"dossier {dossier_id} not found", f"Dossier introuvable : {dossier_id}.")
            sha, stored = d.sha256, d.stored_path
            run_ids = list(s.scalars(select(RunRow.id).where(RunRow.dossier_id == dossier_id)))
            for model in (DecisionRow, GridRow):
                s.query(model).filter(model.run_id.in_(run_ids)).delete(synchronize_session=False)
            s.query(RunRow).filter(RunRow.dossier_id == dossier_id).delete(synchronize_session=False)
            s.query(AuditRow).filter((AuditRow.dossier_id == dossier_id) | (AuditRow.run_id.in_(run_ids))).delete(
                synchronize_session=False
            )
            s.delete(d)
            if sa_inspect(s.connection()).has_table("jobs"):  # web upload jobs keep the file name
                s.execute(text("DELETE FROM jobs WHERE dossier_id = :d"), {"d": dossier_id})
            s.add(
                AuditRow(
                    actor=actor,
                    action="erase",
                    dossier_id=None,
                    run_id=None,
                    detail=f"dossier effacé ({len(run_ids)} analyse(s)) à la demande de {actor}",
                )
            )
        if stored:
            shutil.rmtree(Path(stored).parent, ignore_errors=True)
        self.compact()
        return sha, run_ids

    def compact(self) -> None:
        """Make deleted (and overwritten) rows unrecoverable from the database files."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.exec_driver_sql("VACUUM")
        elif self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                present = set(sa_inspect(conn).get_table_names())
                for table in ("dossiers", "runs", "decisions", "grids", "audit", "jobs", "session_members"):
                    if table in present:  # jobs: only once the web workspace has run
                        conn.exec_driver_sql(f"VACUUM FULL {table}")

    def audit(self) -> list[AuditRow]:
        with self.session() as s:
            return list(s.scalars(select(AuditRow).order_by(AuditRow.id)))

    def confirmed_runs(self) -> list[str]:
        with self.session() as s:
            return list(s.scalars(select(GridRow.run_id).where(GridRow.locked.is_(True))))

    def count(self, model: type) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE for transactions marked `_SERIAL`; the others keep pysqlite's own BEGIN.

    pysqlite begins a transaction lazily, before the first write only, so a read-check-write is
    not atomic. A marked transaction turns that off (isolation_level None: nothing is open at
    this point, so nothing is committed) and takes the write lock before its first statement.
    """
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":  # SQLAlchemy's own autocommit: leave it be
        return
    dbapi = conn.connection.driver_connection
    if options.get(_SERIAL):
        dbapi.isolation_level = None  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        dbapi.isolation_level = ""  # type: ignore[union-attr]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _review_of(run: RunRow) -> Review:
    if run.review is None:
        raise StorageError(f"run {run.id} has no review", f"L’analyse {run.id} n’a pas de résultat enregistré.")
    return Review.model_validate(run.review)
