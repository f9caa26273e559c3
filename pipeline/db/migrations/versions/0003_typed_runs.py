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
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("referentiel_hash", sa.String(64), nullable=True))
        batch.create_index("ix_runs_referentiel_hash", ["referentiel_hash"])
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


def downgrade() -> None:
    raise NotImplementedError("0003 rewrites stored reviews; restore a backup to go back")
