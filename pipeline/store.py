"""Chunk index in chromadb: the only module that imports chromadb.

One collection per dossier (`d-<sha256 prefix>`), not a shared collection filtered by
metadata: erasing a dossier (RGPD) is one `delete_collection`, a query can never return
another candidate's text through a wrong filter, and each index stays small. Embeddings
are cached in a shared `embcache-<model>` collection keyed by the hash of the model and
the chunk text, so re-indexing unchanged text embeds nothing.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from pipeline.embeddings import Embedder, Vectors
from pipeline.errors import RetrievalError
from pipeline.types import Chunk

log = logging.getLogger(__name__)


def _cache_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()


def embedding_text(chunk: Chunk, max_chars: int = 0) -> str:
    """What is embedded for a chunk: its section path gives context the text alone lacks.

    With max_chars, only the chunk's opening is embedded (the lexical side still sees it all).
    Text flagged as manipulation is never embedded (`Chunk.clean_text`).
    """
    clean = chunk.clean_text
    text = clean[:max_chars].rsplit(" ", 1)[0] if 0 < max_chars < len(clean) else clean
    return f"{chunk.section_label}\n{text}" if chunk.section else text


class ChunkStore:
    def __init__(self, path: Path, embedder: Embedder, embed_max_chars: int = 0) -> None:
        self.embed_max_chars = embed_max_chars
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._client = chromadb.PersistentClient(
                path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            )
        except Exception as e:
            raise RetrievalError(
                f"chromadb cannot open {path}: {e}",
                f"L’index local ({path}) ne peut pas être ouvert : vérifiez les droits du dossier de données "
                "ou choisissez-en un autre avec --data-dir.",
            ) from e
        self.embedder = embedder
        safe = "".join(c if c.isalnum() else "-" for c in embedder.name)[:40].strip("-")
        self._cache = self._client.get_or_create_collection(
            f"embcache-{safe}", embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        self.embedded_last = 0  # passages embedded by the last index() call (0 when warm)

    @staticmethod
    def collection_name(dossier_sha256: str) -> str:
        return f"d-{dossier_sha256[:32]}"

    def embed_queries(self, texts: list[str]) -> Vectors:
        """Query embeddings, cached like passages: the criteria's queries do not change between dossiers."""
        return self._embed_cached(texts, query=True)

    def _embed_cached(self, texts: list[str], query: bool = False) -> Vectors:
        keys = [_cache_key(self.embedder.name, ("query\x00" if query else "") + t) for t in texts]
        found: dict[str, Any] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            got = self._cache.get(ids=unique[i : i + 500], include=["embeddings"])
            for k, e in zip(got["ids"], got["embeddings"] if got["embeddings"] is not None else [], strict=False):
                found[k] = e
        missing = [i for i, k in enumerate(keys) if k not in found]
        todo: dict[str, str] = {keys[i]: texts[i] for i in missing}
        if not query:
            self.embedded_last = len(todo)
        if todo:
            if query:
                vecs = np.vstack([self.embedder.embed_query(t) for t in todo.values()])
            else:
                vecs = self.embedder.embed_passages(list(todo.values()))
            self._cache.upsert(ids=list(todo), embeddings=vecs.tolist())
            for k, v in zip(todo, vecs, strict=True):
                found[k] = v
        return np.asarray([found[k] for k in keys], dtype=np.float32).reshape(len(keys), -1)

    def index(self, chunks: list[Chunk]) -> Vectors:
        """Store the chunks of one dossier; return their embeddings in chunk order."""
        if not chunks:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        vecs = self._embed_cached([embedding_text(c, self.embed_max_chars) for c in chunks])
        coll = self._client.get_or_create_collection(
            self.collection_name(chunks[0].dossier_sha256), embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        have = set(coll.get(include=[])["ids"])
        ids = [c.id for c in chunks]
        if have != set(ids):
            if have - set(ids):
                coll.delete(ids=list(have - set(ids)))
            # no document text in the vector store: chunks are rebuilt from the dossier, and
            # erasing a dossier then leaves no candidate text behind in chromadb's files
            coll.upsert(ids=ids, embeddings=vecs.tolist(), metadatas=[_meta(c) for c in chunks])
        return vecs

    def erase(self, dossier_sha256: str, chunk_texts: list[str]) -> None:
        """Remove a dossier's collection and the cached embeddings of its text."""
        try:
            self._client.delete_collection(self.collection_name(dossier_sha256))
        except Exception as e:  # absent already
            log.info("no collection to delete for %s: %s", dossier_sha256[:12], e)
        keys = [_cache_key(self.embedder.name, t) for t in chunk_texts]
        if keys:
            self._cache.delete(ids=keys)


def _meta(c: Chunk) -> dict[str, str | int | bool]:
    return {
        "dossier": c.dossier_sha256,
        "index": c.index,
        "pages": ",".join(map(str, c.pages)),
        "start": c.start,
        "end": c.end,
        "kinds": ",".join(c.kinds),
    }
