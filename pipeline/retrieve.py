"""Per-criterion retrieval: queries from the referentiel, dense + BM25, score fusion, MMR.

Dense side: the criterion (with its preamble), its indicator phrases and its plain paraphrase as
e5 queries, a chunk scoring the best of them, less the chunk's mean similarity to all the
module's criteria (centring: a chunk close to every criterion is evidence for none in
particular). Lexical side: BM25 over criterion text, indicator phrases and the module's
expected contents for the competency. The scores are fused (dbsf: normalised per query and
summed, with the similarity of the chunk's heading and a prior on where in a dossier the
criterion's competency lies; or weighted reciprocal rank fusion), then MMR keeps the top-k from
repeating one section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from pipeline.embeddings import Embedder, Vectors, embedder_for
from pipeline.lexical import LexicalIndex
from pipeline.noncontent import NonContent
from pipeline.referentiel import Criterion, Referentiel
from pipeline.settings import Settings
from pipeline.store import ChunkStore
from pipeline.types import Chunk, Hit

Mode = Literal["hybrid", "dense", "lexical"]
_QUERY_CACHE: dict[tuple[str, str], Vectors] = {}


# a position's prior is the log of its density plus this floor (densities average 1 over a dossier):
# a passage where the competency is never seen is held back, not ruled out
POSITION_FLOOR = 0.05


@dataclass(frozen=True)
class CriterionQuery:
    criterion_id: str
    dense: list[str]
    lexical: str
    # the criterion's competency's density over a dossier's relative position (referentiel positions)
    position: tuple[float, ...] = ()


def build_query(ref: Referentiel, criterion: Criterion) -> CriterionQuery:
    indicators = ref.indicators.get(criterion.id, [])
    dense = [criterion.label]
    if indicators:
        dense.append(", ".join(indicators))
    if criterion.id in ref.plain:  # the criterion in a candidate's everyday words, without the jargon
        dense.append(ref.plain[criterion.id])
    contents = " ".join(ref.expected_contents_for(criterion.id))
    lexical = " ".join([criterion.text, " ".join(indicators), " ".join(indicators), contents])
    return CriterionQuery(criterion.id, dense, lexical, tuple(ref.positions.get(criterion.competency_id, ())))


class DossierIndex:
    """A dossier's chunks, their embeddings (in chromadb) and a BM25 index, ready to query.

    With the dossier's `labels`, a chunk holding only labels (headings, captions, a table's
    header row, contents lines: `NonContent.labels_only`) is not embedded: it has no dense score
    and is found by BM25 alone (it is never evidence either)."""

    def __init__(
        self,
        chunks: list[Chunk],
        settings: Settings,
        embedder: Embedder | None = None,
        labels: NonContent | None = None,
    ) -> None:
        self.settings = settings
        # a chunk left empty once its flagged spans are removed is never indexed nor retrieved;
        # the others are indexed on `clean_text` (flagged sentences weigh nothing in a score)
        self.chunks = [c for c in chunks if not c.flagged]
        self._usable = [c.usable() for c in self.chunks]  # what hits carry: drafters never see a flagged span
        chunks = self.chunks
        self.embedder = embedder or embedder_for(settings)
        self.store = ChunkStore(settings.chroma_dir, self.embedder, settings.embed_max_chars, url=settings.chroma_url)
        self.dense_mask = np.array([labels is None or not labels.labels_only(c.clean_text) for c in chunks], dtype=bool)
        self.vectors: Vectors = np.zeros((len(chunks), self.embedder.dim), dtype=np.float32)
        content = [c for c, keep in zip(chunks, self.dense_mask, strict=True) if keep]
        self.vectors[self.dense_mask] = self.store.index(content)  # label-only rows stay 0: no similarity
        self.embedded = self.store.embedded_last
        self.lexical = LexicalIndex([c.clean_text for c in chunks])
        # the heading each chunk sits under (its deepest section title), embedded once per distinct title
        heads = [c.section[-1] if c.section else "" for c in chunks]
        titles = sorted({h for h in heads if h})
        number = {h: i for i, h in enumerate(titles)}
        self.heading_of = np.array([number.get(h, -1) for h in heads], dtype=np.int64)
        self.heading_vectors: Vectors = np.zeros((0, self.embedder.dim), dtype=np.float32)
        # each chunk's mean dense similarity over the run's criteria (prepare()); 0 until then
        self.dense_bias = np.zeros(len(chunks))
        if titles and settings.heading_weight > 0 and settings.fusion == "dbsf":
            self.heading_vectors = self.store.index_headings(chunks[0].dossier_sha256, titles)

    def retrieve(self, query: CriterionQuery, k: int | None = None, mode: Mode = "hybrid") -> list[Hit]:
        k = k or self.settings.k
        n = len(self.chunks)
        if n == 0:
            return []
        dense = np.full(n, -1.0)
        embedded = self.dense_mask
        query_vectors = self._query_vectors(query.dense) if mode != "lexical" else []
        if mode != "lexical":
            dense = self._similarity(query_vectors)
            dense[~embedded] = -1.0  # not embedded: ranked after every embedded chunk, no dense share
        lex, stems = self.lexical.scores(query.lexical) if mode != "dense" else (np.zeros(n), [])
        dense_rank = _ranks(dense) if mode != "lexical" and embedded.any() else None
        lex_rank = _ranks(lex) if mode != "dense" and lex.any() else None
        fused = np.zeros(n)
        s = self.settings
        if s.fusion == "dbsf":  # score-aware: a clear win on one side is not drowned by the other's ranks
            if dense_rank is not None:
                centred = dense - s.dense_centering * self.dense_bias  # see prepare(); hits keep the raw cosine
                fused[embedded] += s.dense_weight * _dbsf(centred[embedded])
            if lex_rank is not None:
                fused += s.lexical_weight * _dbsf(lex)
            if mode == "hybrid" and len(self.heading_vectors) and embedded.any():
                fused[embedded] += s.heading_weight * _dbsf(self._heading_similarity(query_vectors)[embedded])
            if mode == "hybrid" and query.position and s.position_weight > 0:
                fused += s.position_weight * _dbsf(_position_prior(query.position, n))
        else:
            if dense_rank is not None:
                fused[embedded] += s.dense_weight / (s.rrf_k + dense_rank[embedded])
            if lex_rank is not None:
                fused += s.lexical_weight / (s.rrf_k + lex_rank)
        order = self._mmr(fused, k) if mode == "hybrid" else list(np.argsort(-fused, kind="stable")[:k])
        hits = []
        for rank, i in enumerate(order, 1):
            hits.append(
                Hit(
                    chunk=self._usable[i],
                    rank=rank,
                    dense_score=round(float(dense[i]), 4) if mode != "lexical" and embedded[i] else None,
                    lexical_score=round(float(lex[i]), 4) if mode != "dense" else None,
                    fused_score=round(float(fused[i]), 5),
                    dense_rank=int(dense_rank[i]) if dense_rank is not None and embedded[i] else None,
                    lexical_rank=int(lex_rank[i]) if lex_rank is not None else None,
                    matched_terms=self.lexical.matched_terms(i, stems) if stems else [],
                )
            )
        return hits

    def _heading_similarity(self, query_vectors: list[Vectors]) -> np.ndarray:
        """Each chunk's heading against the criterion (best of its queries); a chunk without a heading
        gets the least any heading gets, so that it is neither helped nor hurt beyond the others."""
        sims = np.max(np.stack([self.heading_vectors @ qv for qv in query_vectors]), axis=0)
        return np.where(self.heading_of >= 0, sims[np.maximum(self.heading_of, 0)], sims.min())

    def _similarity(self, query_vectors: list[Vectors]) -> np.ndarray:
        """Each chunk's cosine to the criterion: the best over its queries (exact, brute force: a dossier
        has hundreds of chunks at most, faster than an approximate index round trip)."""
        return np.max(np.stack([self.vectors @ qv for qv in query_vectors]), axis=0).astype(float)

    def _query_vectors(self, texts: list[str]) -> list[Vectors]:
        missing = [t for t in texts if (self.embedder.name, t) not in _QUERY_CACHE]
        if missing:
            for t, v in zip(missing, self.store.embed_queries(missing), strict=True):
                _QUERY_CACHE[(self.embedder.name, t)] = v
        return [_QUERY_CACHE[(self.embedder.name, t)] for t in texts]

    def prepare(self, queries: list[CriterionQuery]) -> None:
        """Embed every query of a run in one go (cached on disk: warm runs embed nothing), and centre
        the dense side on them: each chunk's mean similarity over the criteria is what it shares with
        any criterion (an introduction, a company overview, a dense figure table sit close to all of
        them in e5's narrow band), so the dbsf fusion reads a chunk's similarity above its own mean.
        Chosen on dev (recall@8 0.903 -> 0.941; the six dev dossiers of the fourth round 0.878 ->
        0.894); `dense_centering` 0 turns it off. The hits keep the raw cosine (`dense_score`)."""
        self._query_vectors([t for q in queries for t in q.dense])
        if len(queries) > 1 and self.dense_mask.any():  # one query alone would centre itself to nothing
            self.dense_bias = np.mean([self._similarity(self._query_vectors(q.dense)) for q in queries], axis=0)

    def _mmr(self, relevance: np.ndarray, k: int) -> list[int]:
        """Maximal marginal relevance over chunk embeddings."""
        lam = self.settings.mmr_lambda
        span = float(relevance.max() - relevance.min()) or 1.0
        rel = (relevance - relevance.min()) / span
        candidates = list(np.argsort(-relevance, kind="stable")[:60])  # fixed pool: top-k is prefix-stable
        chosen: list[int] = []
        vecs = self.vectors
        while candidates and len(chosen) < k:
            if not chosen:
                best = candidates[0]
            else:
                sims = vecs[candidates] @ vecs[chosen].T
                scores = lam * rel[candidates] - (1 - lam) * sims.max(axis=1)
                best = candidates[int(np.argmax(scores))]
            chosen.append(int(best))
            candidates.remove(best)
        return chosen


def _dbsf(scores: np.ndarray) -> np.ndarray:
    """Distribution-based score normalisation: (x - (mean - 3 sd)) / (6 sd), clipped to [0, 1].

    Dense similarities of one dossier crowd into a narrow band (0.84-0.89): min-max would blow
    up noise, ranks would erase a clear lead; three standard deviations keep the lead's size."""
    sd = float(scores.std())
    if sd == 0.0:
        return np.zeros_like(scores)
    return np.clip((scores - (float(scores.mean()) - 3 * sd)) / (6 * sd), 0.0, 1.0)


def _position_prior(density: tuple[float, ...], n: int) -> np.ndarray:
    """Each of n chunks' log density at its relative position in the dossier (its middle, in reading
    order): where the criterion's competency lies in the labelled dossiers the density was fitted on."""
    grid = np.linspace(0.0, 1.0, len(density))
    at = (np.arange(n) + 0.5) / n
    return np.log(np.interp(at, grid, np.asarray(density, dtype=float)) + POSITION_FLOOR)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each item (1 = best)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def retrieve_all(
    index: DossierIndex, ref: Referentiel, module: str, k: int | None = None, mode: Mode = "hybrid"
) -> dict[str, list[Hit]]:
    queries = {c.id: build_query(ref, c) for c in ref.criteria_for(module)}
    index.prepare(list(queries.values()))
    return {cid: index.retrieve(q, k, mode) for cid, q in queries.items()}
