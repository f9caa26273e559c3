"""The review of one dossier, as named steps: parse, chunk, index, retrieve, draft, ground, aggregate.

`run_review` is the one place that orders the stages; `record_review` the one place that
stores a run. The CLI, the web jobs and the eval harness all go through them, so the evals
measure exactly what ships.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.chunking import chunk_dossier
from pipeline.drafting import Drafter
from pipeline.drafting.gaps import DossierSearch, verify_free_gaps
from pipeline.embeddings import Embedder, embedder_for
from pipeline.grounding import Match, Searchable, block_at, misread_spans
from pipeline.ingest import ingest
from pipeline.manipulation import warnings_for
from pipeline.manipulation_semantic import detect_semantic_cached
from pipeline.noncontent import NonContent
from pipeline.referentiel import Referentiel
from pipeline.retrieve import DossierIndex, retrieve_all
from pipeline.settings import Settings
from pipeline.types import Chunk, CompetencyVerdict, CriterionDraft, Dossier, Evidence, Hit, Review, RunProvenance

if TYPE_CHECKING:
    from pipeline.db.store import ReviewStore

Progress = Callable[[str, int, int], None]
STEPS = 6


def _noop(step: str, done: int, total: int) -> None:
    return None


def make_drafter(settings: Settings) -> Drafter:
    if settings.backend == "openai":
        from pipeline.drafting.llm import LLMDrafter

        return LLMDrafter(settings)
    from pipeline.drafting.offline import OfflineDrafter

    return OfflineDrafter(embedder=settings.embedder)


@dataclass
class ReviewOutcome:
    """A finished review and what it was built from (the evals measure retrieval on `index`)."""

    review: Review
    dossier: Dossier
    chunks: list[Chunk]
    index: DossierIndex
    hits: dict[str, list[Hit]]


def chunk(dossier: Dossier, settings: Settings) -> list[Chunk]:
    return chunk_dossier(dossier, settings.chunk_size, settings.chunk_overlap)


def read(path: Path, settings: Settings, embedder: Embedder, password: str | None = None) -> Dossier:
    """Parse, then read for manipulation by meaning (`with_semantic_reading`)."""
    return with_semantic_reading(ingest(path, settings, password=password), settings, embedder)


def with_semantic_reading(dossier: Dossier, settings: Settings, embedder: Embedder) -> Dossier:
    """The dossier with the manipulation findings of the reading by meaning
    (`manipulation_semantic`), which needs the embedding model; the cue-based reading already ran
    inside `ingest`."""
    semantic = detect_semantic_cached(dossier, embedder, settings.cache_dir)
    if semantic:  # a copy: a parsed dossier may be shared by a cache
        dossier = dossier.model_copy(update={"findings": [*dossier.findings, *semantic]})
    return dossier


def read_and_chunk(path: Path, settings: Settings, password: str | None = None) -> tuple[Dossier, list[Chunk]]:
    """The first two stages alone (parse, chunk), for tools that re-index under other settings."""
    dossier = read(path, settings, embedder_for(settings), password=password)
    return dossier, chunk(dossier, settings)


def run_review(
    path: Path,
    module: str,
    settings: Settings,
    ref: Referentiel,
    password: str | None = None,
    drafter: Drafter | None = None,
    progress: Progress = _noop,
) -> ReviewOutcome:
    """Parse, chunk, index, retrieve, draft, ground and aggregate: the whole review of one file."""
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = round(now - t, 3)
        t = now

    module = ref.modality(module).id
    settings.ensure_dirs()
    progress("lecture", 0, STEPS)
    embedder = embedder_for(settings)
    dossier = ingest(path, settings, password=password)
    lap("parse")
    dossier = with_semantic_reading(dossier, settings, embedder)
    lap("manipulation")
    chunks = chunk(dossier, settings)
    lap("chunk")
    progress("indexation", 1, STEPS)
    # label-only chunks: BM25 only
    index = DossierIndex(chunks, settings, labels=NonContent.of(dossier), embedder=embedder)
    lap("index")
    progress("recherche", 2, STEPS)
    hits = retrieve_all(index, ref, module, settings.k)
    lap("retrieve")
    progress("rédaction", 3, STEPS)
    drafter = drafter or make_drafter(settings)
    drafts = drafter.draft_all(dossier, ref, module, hits)
    lap("draft")
    progress("vérification des citations", 4, STEPS)
    ground_drafts(dossier, chunks, drafts)
    if any(g.kind == "other" for d in drafts.values() for g in d.gaps):  # the offline drafter checks its own
        search = DossierSearch(dossier)
        for d in drafts.values():  # a model's free-text gaps are checked like the offline drafter's
            d.gaps = verify_free_gaps(d.gaps, [e.quote for e in d.evidence], search)
            d.missing = [g.text for g in d.gaps]
    lap("ground")
    criteria = [drafts[c.id] for c in ref.criteria_for(module)]
    review = Review(
        run_id=uuid.uuid4().hex,
        file=dossier.file,
        dossier_sha256=dossier.sha256,
        module=module,
        referentiel=ref.ref,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        warnings=warnings_for(dossier) + module_fit_warnings(ref, module, criteria),
        findings=[f for f in dossier.findings if f.kind != "language" or dossier.language != "fr"],
        criteria=criteria,
        competencies=aggregate(ref, module, drafts),
        provenance=_provenance(settings, ref, drafter, index, chunks, dossier, criteria, timings),
    )
    progress("terminé", STEPS, STEPS)
    return ReviewOutcome(review, dossier, chunks, index, hits)


# Share of criteria left without any quote above which the dossier probably is not a dossier of
# this module (a weak dossier of the right module still has quotes for most criteria).
MODULE_MISMATCH_SHARE = 0.6


def module_fit_warnings(ref: Referentiel, module: str, criteria: list[CriterionDraft]) -> list[str]:
    """A warning when most criteria found nothing: the wrong module (or a dossier of another kind)."""
    bare = sum(1 for d in criteria if not d.evidence)
    if not criteria or bare / len(criteria) <= MODULE_MISMATCH_SHARE:
        return []
    modality = ref.modality(module)
    return [
        f"Ce dossier correspond mal au module {modality.id} ({modality.title}) : {bare} critère(s) sur "
        f"{len(criteria)} sans aucun passage pertinent. Vérifiez le module choisi avant d’évaluer."
    ]


def _provenance(
    settings: Settings,
    ref: Referentiel,
    drafter: Drafter,
    index: DossierIndex,
    chunks: list[Chunk],
    dossier: Dossier,
    criteria: list[CriterionDraft],
    timings: dict[str, float],
) -> RunProvenance:
    tokens_in = sum(d.provenance.tokens_in for d in criteria)
    tokens_out = sum(d.provenance.tokens_out for d in criteria)
    models = [d.provenance.model for d in criteria if d.provenance.model]
    return RunProvenance(
        backend=drafter.name,
        model=models[0] if drafter.name != "offline" and models else None,
        embedder=index.embedder.name,
        referentiel_hash=ref.snapshot_hash,
        level_model=models[0] if drafter.name == "offline" and models else None,
        settings=settings.model_dump(mode="json", exclude={"llm_api_key", "data_dir"}),
        timings=timings,
        chunks=len(chunks),
        embedded_passages=index.embedded,
        pages=dossier.pages,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        dropped_quotes=sum(d.dropped_quotes for d in criteria),
        estimated_cost=round(
            tokens_in / 1e6 * settings.llm_price_in_per_mtok + tokens_out / 1e6 * settings.llm_price_out_per_mtok, 4
        ),
        cached_answers=sum(d.provenance.cached for d in criteria),
        prompt_hashes=sorted({d.provenance.prompt_hash for d in criteria if d.provenance.prompt_hash}),
    )


@dataclass(frozen=True)
class Recorded:
    dossier_id: str
    run_id: str


def record_review(
    store: ReviewStore,
    source: Path,
    outcome: ReviewOutcome,
    ref: Referentiel,
    settings: Settings,
    actor: str = "cli",
    candidate_ref: str = "",
    **dossier_fields: Any,
) -> Recorded:
    """Store the dossier (file and parsed text), then its run with the referentiel it was made with."""
    dossier_id = store.add_dossier(
        source,
        outcome.dossier,
        outcome.review.module,
        settings.files_dir,
        candidate_ref=candidate_ref,
        uploaded_by=actor,
        **dossier_fields,
    )
    run_id = store.add_run(dossier_id, outcome.review, ref, actor=actor)
    return Recorded(dossier_id, run_id)


def review_and_record(
    store: ReviewStore,
    path: Path,
    module: str,
    settings: Settings,
    ref: Referentiel,
    password: str | None = None,
    progress: Progress = _noop,
    actor: str = "cli",
    candidate_ref: str = "",
    **dossier_fields: Any,
) -> tuple[ReviewOutcome, Recorded]:
    outcome = run_review(path, module, settings, ref, password=password, progress=progress)
    recorded = record_review(
        store, path, outcome, ref, settings, actor=actor, candidate_ref=candidate_ref, **dossier_fields
    )
    return outcome, recorded


def _locate(dossier: Dossier, chunk: Chunk, text: str, labels: NonContent) -> tuple[Match | None, bool]:
    """Where `text` stands in the chunk's own stretch of the dossier, outside headings and captions
    (the same words may stand in a title above, on an agenda slide repeated); (None, True) when it
    stands there only inside titles, (None, False) when it is not found there."""
    offset, in_titles = chunk.start, False
    while offset < chunk.end:
        m = Searchable(dossier.text[offset : chunk.end]).find(text, fuzzy=False)
        if m is None:
            break
        start, end = offset + m.start, offset + m.end
        if not labels.inside_label(start, end):
            return Match(start, end, m.kind, m.ratio), False
        in_titles, offset = True, end
    return None, in_titles


def ground_drafts(dossier: Dossier, chunks: list[Chunk], drafts: dict[str, CriterionDraft]) -> None:
    """Keep only quotes found in the chunk they cite; rewrite each as the source's own text."""
    by_id = {c.id: c for c in chunks}
    searchables: dict[str, Searchable] = {}
    full = Searchable(dossier.text)
    labels = NonContent.of(dossier)
    misread = misread_spans(dossier)
    for draft in drafts.values():
        kept: list[Evidence] = []
        labels_dropped = 0
        for ev in draft.evidence:
            chunk = by_id.get(ev.chunk_id)
            if chunk is None or chunk.flagged:
                draft.dropped_quotes += 1
                continue
            s = searchables.setdefault(chunk.id, Searchable(chunk.text, blocked=chunk.flagged_spans))
            m = s.find(ev.quote)
            if m is None:
                draft.dropped_quotes += 1
                continue
            source_text = " ".join(chunk.text[m.start : m.end].split())
            if source_text in labels:  # a heading, caption or table header alone is not evidence
                labels_dropped += 1
                continue
            at, only_in_titles = _locate(dossier, chunk, source_text, labels)
            if only_in_titles:  # a piece of a title
                labels_dropped += 1
                continue
            at = at or full.find(source_text, fuzzy=False)
            page, section = block_at(dossier, at.start) if at else (None, "")
            kept.append(
                ev.model_copy(
                    update={
                        "quote": source_text,
                        "match": m.kind,
                        "match_ratio": m.ratio,
                        "start": at.start if at else None,
                        "end": at.end if at else None,
                        "page": page if page is not None else ev.page,
                        "section": section if at else ev.section,  # the block's own, once located
                        "to_verify": _touches(misread, (at.start, at.end) if at else (chunk.start, chunk.end)),
                    }
                )
            )
        draft.evidence = kept
        if labels_dropped:
            draft.flags.append(f"{labels_dropped} titre(s) ou légende(s) écarté(s) : un intitulé n’est pas une preuve")
        if draft.dropped_quotes:
            draft.flags.append(f"{draft.dropped_quotes} citation(s) introuvable(s) écartée(s)")
        if not kept and draft.status != "à revoir":
            draft.status = "à revoir"
            draft.flags.append("aucune preuve vérifiée : à revoir par l’évaluateur")


def _touches(spans: list[tuple[int, int]], span: tuple[int, int]) -> bool:
    return any(a < span[1] and span[0] < b for a, b in spans)


def aggregate(ref: Referentiel, module: str, drafts: dict[str, CriterionDraft]) -> list[CompetencyVerdict]:
    out = []
    for comp in ref.competencies_for(module):
        levels = {k.id: drafts[k.id].level if k.id in drafts else None for k in comp.criteria}
        out.append(CompetencyVerdict(id=comp.id, verdict=ref.verdict(list(levels.values())), levels=levels))
    return out
