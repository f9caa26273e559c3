"""RGPD erasure of a dossier: database rows, stored file, chunks, embeddings, cached model answers."""

from __future__ import annotations

import shutil

from pipeline.chunking import chunk_dossier
from pipeline.db.store import ReviewStore
from pipeline.embeddings import get_embedder
from pipeline.ingest import parsed_cache_files
from pipeline.settings import Settings
from pipeline.store import ChunkStore, embedding_text
from pipeline.types import Dossier


def erase_dossier(store: ReviewStore, settings: Settings, dossier_id: str, actor: str) -> int:
    """Erase everything derived from the dossier; keep one anonymised audit line. Returns runs erased."""
    row = store.dossier(dossier_id)
    texts: list[str] = []
    if row.parsed:
        dossier = Dossier.model_validate(row.parsed)
        chunks = chunk_dossier(dossier, settings.chunk_size, settings.chunk_overlap)
        texts = [embedding_text(c, settings.embed_max_chars) for c in chunks]
    sha = row.sha256
    if settings.chroma_dir.exists():
        ChunkStore(settings.chroma_dir, get_embedder(settings.embedder), settings.embed_max_chars).erase(sha, texts)
    shutil.rmtree(settings.cache_dir / "llm" / sha, ignore_errors=True)
    for cached in parsed_cache_files(settings, sha):
        cached.unlink(missing_ok=True)
    _, runs = store.erase(dossier_id, actor)
    return len(runs)
