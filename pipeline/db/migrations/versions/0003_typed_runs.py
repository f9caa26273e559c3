"""Typed stored runs: the review is stored once (as the `Review` model), with the referentiel it
was made with; the duplicated `suggestions` table goes.

Existing runs are carried over: their review.json is rewritten in the model's shape (criterion
ids, typed gaps from the offline drafter's wording, typed provenance), and each gets the
snapshot of the bundled referentiel of the same id (the only ones that existed before).

Revision ID: 0003
Revises: 0002
"""

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_PROVENANCE_KEYS = (
    "backend",
    "model",
    "embedder",
    "settings",
    "timings",
    "chunks",
    "embedded_passages",
    "pages",
    "tokens_in",
    "tokens_out",
    "dropped_quotes",
    "estimated_cost",
    "cached_answers",
    "prompt_hashes",
)


def _gap(text: str) -> dict[str, Any]:
    """The offline drafter's former wording, typed (the only drafter whose wording was fixed)."""
    kind, terms = "other", []
    if text.startswith("Aucun passage"):
        kind = "no_evidence"
    elif text.startswith("Vocabulaire attendu"):
        kind = "vocabulary"
        terms = [t.strip() for t in text.split(":", 1)[-1].rstrip(".").split(",") if t.strip()]
    elif text.startswith("Pas de données chiffrées"):
        kind = "figures"
    elif text.startswith("Pas de dates"):
        kind = "dates"
    elif text.startswith("Pas de sources"):
        kind = "sources"
    return {"text": text, "kind": kind, "terms": terms, "mentioned": []}


def _typed(review: dict[str, Any], ref_hash: str) -> dict[str, Any]:
    criteria = []
    for c in review.get("criteria", []):
        c = dict(c)
        if "criterion_id" not in c:
            c["criterion_id"] = c.pop("id")
        c.pop("label", None)
        c.setdefault("gaps", [_gap(m) for m in c.get("missing", [])])
        criteria.append(c)
    prov = {k: v for k, v in (review.get("provenance") or {}).items() if k in _PROVENANCE_KEYS}
    prov.setdefault("backend", "offline")
    prov["referentiel_hash"] = ref_hash
    return {
        **{k: v for k, v in review.items() if k not in ("criteria", "provenance", "dossier_id")},
        "criteria": criteria,
        "provenance": prov,
    }


def upgrade() -> None:
    from pipeline.referentiel import DEFAULT_REFERENTIEL, bundled_referentiels, resolve_referentiel

    refs = op.create_table(
        "referentiels",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    # plain ADD COLUMN: a batch "move and copy" of `runs` on SQLite would cascade-delete the
    # decisions and grids that reference it
    if "referentiel_hash" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("runs")}:
        op.add_column("runs", sa.Column("referentiel_hash", sa.String(64), nullable=True))  # (SQLite after a downgrade)
    op.create_index("ix_runs_referentiel_hash", "runs", ["referentiel_hash"])
    conn = op.get_bind()
    runs = sa.table(
        "runs",
        sa.column("id", sa.String),
        sa.column("referentiel", sa.String),
        sa.column("referentiel_hash", sa.String),
        sa.column("review", sa.JSON),
    )
    stored: dict[str, str] = {}
    for run_id, ref_name, review in conn.execute(sa.select(runs.c.id, runs.c.referentiel, runs.c.review)).all():
        ident = str(ref_name or DEFAULT_REFERENTIEL).split("@")[0]
        ref = resolve_referentiel(ident if ident in bundled_referentiels() else DEFAULT_REFERENTIEL)
        if ref.snapshot_hash not in stored:
            conn.execute(
                refs.insert().values(
                    hash=ref.snapshot_hash, ref=ref.ref, data=ref.snapshot, stored_at=dt.datetime.now(dt.UTC)
                )
            )
            stored[ref.snapshot_hash] = ref.ref
        data = json.loads(review) if isinstance(review, str) else review
        values: dict[str, Any] = {"referentiel_hash": ref.snapshot_hash}
        if data:
            values["review"] = _typed(data, ref.snapshot_hash)
        conn.execute(runs.update().where(runs.c.id == run_id).values(**values))
    op.drop_table("suggestions")


def _legacy(review: dict[str, Any]) -> dict[str, Any]:
    """The review.json shape stored before 0003 (criteria keyed `id`, no gaps)."""
    criteria = []
    for c in review.get("criteria", []):
        c = {k: v for k, v in c.items() if k != "gaps"}
        c["id"] = c.pop("criterion_id")
        criteria.append(c)
    prov = {k: v for k, v in (review.get("provenance") or {}).items() if k != "referentiel_hash"}
    return {**review, "criteria": criteria, "provenance": prov}


def downgrade() -> None:
    """Back to separate suggestions rows and untyped reviews (the referentiel snapshots are dropped)."""
    sugg = op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("criterion_id", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer, nullable=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("missing", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("provenance", sa.JSON, nullable=False),
        sa.UniqueConstraint("run_id", "criterion_id"),
    )
    conn = op.get_bind()
    runs = sa.table(
        "runs", sa.column("id", sa.String), sa.column("review", sa.JSON), sa.column("referentiel_hash", sa.String)
    )
    for run_id, review in conn.execute(sa.select(runs.c.id, runs.c.review)).all():
        data = json.loads(review) if isinstance(review, str) else review
        if not data:
            continue
        for c in data.get("criteria", []):
            conn.execute(
                sugg.insert().values(
                    run_id=run_id,
                    criterion_id=c["criterion_id"],
                    level=c.get("level"),
                    confidence=c.get("confidence", 0.0),
                    status=c.get("status", "à revoir"),
                    rationale=c.get("rationale", ""),
                    missing=c.get("missing", []),
                    evidence=c.get("evidence", []),
                    provenance=c.get("provenance", {}),
                )
            )
        conn.execute(runs.update().where(runs.c.id == run_id).values(review=_legacy(data)))
    op.drop_index("ix_runs_referentiel_hash", "runs")
    if conn.dialect.name == "sqlite":
        # SQLite drops a column by copying the table, which would cascade-delete the decisions
        # and grids that reference `runs`: the unused column stays, emptied
        conn.execute(runs.update().values(referentiel_hash=None))
    else:
        op.drop_column("runs", "referentiel_hash")
    op.drop_table("referentiels")
