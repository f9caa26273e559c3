"""Chunk index in chromadb: the only module that imports chromadb.

One collection per dossier (`d-<sha256 prefix>`), not a shared collection filtered by
metadata: a query can never return another candidate's text through a wrong filter, each
index stays small, and erasing a dossier (RGPD) is deleting its collection. The dossier's
collection is also its embedding cache (each chunk carries the hash of the model and of the
text it embedded), so re-indexing an unchanged dossier embeds nothing, and no vector of a
dossier lives anywhere else. Only the criteria's query embeddings are shared.

chromadb does not make deleted data unreadable: a deleted collection leaves its HNSW files
on disk and its rows in the free pages of `chroma.sqlite3` (its write-ahead queue,
`embeddings_queue`, is purged of a deleted collection's records but not overwritten).
`compact()` removes the HNSW folders of deleted collections and rewrites the SQLite file.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from pipeline.embeddings import Embedder, Vectors
from pipeline.errors import RetrievalError, StorageError
from pipeline.types import Chunk

log = logging.getLogger(__name__)

DOSSIER_PREFIX = "d-"
HEADING_PREFIX = "h-"  # ids of heading vectors in a dossier's collection (chunk ids are hex digests)
_LEGACY_SHARED_CACHE = "embcache-"  # before per-dossier caching, passages of every dossier were cached here
_SEGMENT_DIR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _cache_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()


def embedding_text(chunk: Chunk, max_chars: int = 0) -> str:
    """What is embedded for a chunk: its section path gives context the text alone lacks.

    With max_chars, only the chunk's opening is embedded (the lexical side still sees it all).
    """
    text = chunk.text[:max_chars].rsplit(" ", 1)[0] if 0 < max_chars < len(chunk.text) else chunk.text
    return f"{chunk.section_label}\n{text}" if chunk.section else text


class ChunkStore:
    def __init__(self, path: Path, embedder: Embedder, embed_max_chars: int = 0, url: str | None = None) -> None:
        self.path = path
        self.url = url  # a chromadb server (`chroma run`) shared by the workers of several machines
        self.embed_max_chars = embed_max_chars
        try:
            self._client = _client(path, url)
        except Exception as e:
            if url:
                raise RetrievalError(
                    f"chromadb server {url} unreachable: {e}",
                    f"Le serveur d’index ({url}, DOSSIER_REVIEW_CHROMA_URL) ne répond pas : vérifiez qu’il est lancé.",
                ) from e
            raise RetrievalError(
                f"chromadb cannot open {path}: {e}",
                f"L’index local ({path}) ne peut pas être ouvert : vérifiez les droits du dossier de données "
                "ou choisissez-en un autre avec --data-dir.",
            ) from e
        self.embedder = embedder
        safe = "".join(c if c.isalnum() else "-" for c in embedder.name)[:40].strip("-")
        # the criteria's queries only: no dossier text is embedded into a shared collection
        self._queries = self._client.get_or_create_collection(
            f"queries-{safe}", embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        self.embedded_last = 0  # passages embedded by the last index() call (0 when warm)

    @staticmethod
    def collection_name(dossier_sha256: str) -> str:
        return f"{DOSSIER_PREFIX}{dossier_sha256[:32]}"

    def embed_queries(self, texts: list[str]) -> Vectors:
        """Query embeddings, cached: the criteria's queries do not change between dossiers.

        The cache is only a cache: when the shared collection cannot be read or written (a chromadb
        server answering « Error creating hnsw segment reader: Nothing found on disk » while two
        workers fill a new collection at once), the queries are embedded here and the review goes on."""
        keys = [_cache_key(self.embedder.name, "query\x00" + t) for t in texts]
        found: dict[str, Any] = {}
        unique = list(dict.fromkeys(keys))
        try:
            for i in range(0, len(unique), 500):
                got = self._queries.get(ids=unique[i : i + 500], include=["embeddings"])
                for k, e in zip(got["ids"], got["embeddings"] if got["embeddings"] is not None else [], strict=False):
                    found[k] = e
        except Exception as e:  # any failure of the cache is a miss
            log.warning("query cache not read (%s: %s): queries embedded locally", type(e).__name__, e)
            found.clear()
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if todo:
            vecs = self.embedder.embed_queries(list(todo.values()))
            try:
                self._queries.upsert(ids=list(todo), embeddings=vecs.tolist())
            except Exception as e:  # a cache not written costs time, never the review
                log.warning("query cache not written (%s: %s)", type(e).__name__, e)
            found.update(zip(todo, vecs, strict=True))
        return np.asarray([found[k] for k in keys], dtype=np.float32).reshape(len(keys), -1)

    def index(self, chunks: list[Chunk]) -> Vectors:
        """Store the chunks of one dossier; return their embeddings in chunk order.

        Chunks whose id and embedded text are already in the dossier's collection keep their
        vector; only new or changed ones are embedded.
        """
        if not chunks:
            self.embedded_last = 0
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        coll = self._dossier_collection(chunks[0].dossier_sha256)
        keys = [_cache_key(self.embedder.name, embedding_text(c, self.embed_max_chars)) for c in chunks]
        have = coll.get(include=["embeddings", "metadatas"])
        stored = {
            i: (m or {}).get("key")
            for i, m in zip(have["ids"], have["metadatas"] if have["metadatas"] is not None else [], strict=False)
        }
        vectors = dict(zip(have["ids"], have["embeddings"] if have["embeddings"] is not None else [], strict=False))
        ids = [c.id for c in chunks]
        todo = [i for i, (c, k) in enumerate(zip(chunks, keys, strict=True)) if stored.get(c.id) != k]
        self.embedded_last = len(todo)
        if todo:
            vecs = self.embedder.embed_passages([embedding_text(chunks[i], self.embed_max_chars) for i in todo])
            # no document text in the vector store: chunks are rebuilt from the dossier
            coll.upsert(
                ids=[ids[i] for i in todo],
                embeddings=vecs.tolist(),
                metadatas=[_meta(chunks[i], keys[i]) for i in todo],
            )
            vectors.update(zip([ids[i] for i in todo], vecs, strict=True))
        stale = {i for i in set(stored) - set(ids) if not i.startswith(HEADING_PREFIX)}
        if stale:
            coll.delete(ids=list(stale))
        return np.asarray([vectors[i] for i in ids], dtype=np.float32).reshape(len(ids), -1)

    def index_headings(self, dossier_sha256: str, headings: list[str]) -> Vectors:
        """Embeddings of a dossier's section headings, kept in the dossier's own collection beside its
        chunks (they are the dossier's text: erased with it, never in a shared cache)."""
        if not headings:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        coll = self._dossier_collection(dossier_sha256)
        ids = [HEADING_PREFIX + _cache_key(self.embedder.name, h) for h in headings]
        have = coll.get(where={"kind": "heading"}, include=["embeddings"])
        vectors = dict(zip(have["ids"], have["embeddings"] if have["embeddings"] is not None else [], strict=False))
        todo = [i for i, key in enumerate(ids) if key not in vectors]
        if todo:
            vecs = self.embedder.embed_passages([headings[i] for i in todo])
            coll.upsert(
                ids=[ids[i] for i in todo], embeddings=vecs.tolist(), metadatas=[{"kind": "heading"}] * len(todo)
            )
            vectors.update(zip([ids[i] for i in todo], vecs, strict=True))
        stale = set(have["ids"]) - set(ids)
        if stale:
            coll.delete(ids=list(stale))
        return np.asarray([vectors[i] for i in ids], dtype=np.float32).reshape(len(ids), -1)

    def _dossier_collection(self, sha256: str) -> Any:
        name = self.collection_name(sha256)
        try:
            return self._client.get_collection(name, embedding_function=None)
        except Exception:  # absent: created with the date retention counts from
            return self._client.get_or_create_collection(
                name, embedding_function=None, metadata={"hnsw:space": "cosine", "created": int(time.time())}
            )

    def dossier_collections(self) -> dict[str, float | None]:
        """Collection name → creation time (epoch seconds; None for collections made before it was recorded)."""
        out: dict[str, float | None] = {}
        for coll in self._client.list_collections():
            if coll.name.startswith(DOSSIER_PREFIX):
                created = (coll.metadata or {}).get("created")
                out[coll.name] = float(created) if isinstance(created, int | float) else None
        return out

    def erase(self, dossier_sha256: str) -> None:
        """Remove a dossier's vectors and chunk metadata so that no byte of them stays on disk."""
        self.drop_collections([self.collection_name(dossier_sha256)])

    def drop_collections(self, names: list[str]) -> None:
        """Delete collections (and the legacy shared passage cache, which mixes every dossier), then compact."""
        legacy = [c.name for c in self._client.list_collections() if c.name.startswith(_LEGACY_SHARED_CACHE)]
        for name in [*names, *legacy]:
            try:
                self._client.delete_collection(name)
            except Exception as e:  # absent already
                log.info("no collection %s to delete: %s", name[:14], e)
        self.compact()

    def compact(self) -> None:
        """Make deleted collections unrecoverable: remove their HNSW folders, rewrite chroma.sqlite3."""
        if self.url:  # the server's files are on its own host: `dossier-review compact-index` there
            log.info("chromadb server %s: deleted collections are compacted on the server's host", self.url)
            return
        compact_index_dir(self.path)


# chromadb applies added vectors to a collection's HNSW files in a background thread: one still
# pending when the collection is deleted can write the folder again just after it was removed. On
# a loaded machine (two test runs on two cores) a write came back 0.6 s after the last removal and
# left a dossier's vectors on disk: the folders are watched until none has come back for 1.5 s
_DEAD_SEGMENT_WATCH_S = 8.0
_DEAD_SEGMENT_QUIET_S = 1.5


def _remove_dead_segments(path: Path, live: set[str]) -> None:
    """Remove the HNSW folders of deleted collections, and again if chromadb's background writer
    brings one back, until none has come back for a while (at most a few seconds)."""

    def dead() -> list[Path]:
        return [f for f in path.iterdir() if f.is_dir() and _SEGMENT_DIR.fullmatch(f.name) and f.name not in live]

    deadline = time.monotonic() + _DEAD_SEGMENT_WATCH_S
    quiet_since = time.monotonic()
    found = dead()
    while True:
        for folder in found:
            shutil.rmtree(folder, ignore_errors=True)
        if found:
            quiet_since = time.monotonic()
        if time.monotonic() - quiet_since >= _DEAD_SEGMENT_QUIET_S or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
        found = dead()
    for folder in dead():  # a last write at the deadline
        shutil.rmtree(folder, ignore_errors=True)


def compact_index_dir(path: Path) -> None:
    """Remove the HNSW folders of deleted collections and rewrite `chroma.sqlite3` (VACUUM).

    Works on the files alone, without opening chromadb, so it also serves on the host of a
    chromadb server (whose open connections only make VACUUM wait).
    """
    db_file = path / "chroma.sqlite3"
    if not db_file.is_file():
        raise StorageError(f"{db_file}: no chromadb index", f"Aucun index chromadb dans « {path} ».")
    try:
        with sqlite3.connect(db_file, timeout=120, isolation_level=None) as db:
            live = {row[0] for row in db.execute("SELECT id FROM segments")}
            _remove_dead_segments(path, live)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("VACUUM")
        db.close()
    except sqlite3.Error as e:
        raise StorageError(
            f"chromadb compaction failed: {e}",
            "L’index n’a pas pu être compacté (il est peut-être occupé par une analyse en cours) : "
            "relancez la même commande dans quelques minutes ; la base n’est modifiée qu’après.",
        ) from e


def _client(path: Path, url: str | None) -> Any:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parts = urlsplit(url)
        return chromadb.HttpClient(
            host=parts.hostname or "localhost",
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            settings=settings,
        )
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def vector_store_ok(path: Path, url: str | None) -> bool:
    """The index answers (a heartbeat to the server, or the local index opens)."""
    try:
        client = _client(path, url)
        client.heartbeat()
        return True
    except Exception as e:
        log.warning("vector store check failed: %s", e)
        return False


def _meta(c: Chunk, key: str) -> dict[str, str | int | bool]:
    return {
        "key": key,  # hash of model + embedded text: an unchanged chunk is not embedded again
        "index": c.index,
        "pages": ",".join(map(str, c.pages)),
        "start": c.start,
        "end": c.end,
        "kinds": ",".join(c.kinds),
    }
