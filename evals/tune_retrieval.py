"""Tune the fusion weight and the MMR lambda on the DEV split only (evidence recall@k).

    python -m evals.tune_retrieval samples [--k 8] [--data-dir DIR]

Prints recall@k for each setting on dev and on test side by side; pick on dev, report test.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from evals.harness import _splits, quote_in_chunks
from pipeline.noncontent import NonContent
from pipeline.referentiel import resolve_referentiel
from pipeline.retrieve import DossierIndex, retrieve_all
from pipeline.review import read_and_chunk
from pipeline.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--dense", type=float, nargs="*", default=[1.0, 1.5, 2.0, 3.0], help="dense RRF weights to try")
    ap.add_argument("--mmr", type=float, nargs="*", default=[0.6, 0.75, 0.9, 1.0], help="MMR lambdas to try")
    ap.add_argument("--fusion", nargs="*", default=["rrf"], choices=["rrf", "dbsf"], help="fusion methods to try")
    ap.add_argument("--embed-max-chars", type=int, default=None, help="truncate embedded chunk text")
    a = ap.parse_args()
    extra = {"embed_max_chars": a.embed_max_chars} if a.embed_max_chars is not None else {}
    base = Settings(**({"data_dir": a.data_dir} if a.data_dir else {}), **extra)
    ref = resolve_referentiel(base.referentiel)
    base.ensure_dirs()
    splits = _splits(a.folder)
    cases = []
    for gold_file in sorted(a.folder.glob("*/gold.json")):
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        for fname in gold["files"]:
            dossier, chunks = read_and_chunk(gold_file.parent / fname, base)
            cases.append((splits.get(gold_file.parent.name, "test"), gold, chunks, NonContent.of(dossier)))
    grid = list(itertools.product(a.fusion, a.dense, [1.0], a.mmr))
    print(f"{'fusion':>6} {'dense':>5} {'lex':>4} {'mmr':>5} | recall@{a.k} dev | test")
    for fusion, dw, lw, lam in grid:
        s = base.model_copy(update={"fusion": fusion, "dense_weight": dw, "lexical_weight": lw, "mmr_lambda": lam})
        found = {"dev": [0, 0], "test": [0, 0]}
        for split, gold, chunks, labels in cases:
            hits = retrieve_all(DossierIndex(chunks, s, labels=labels), ref, gold["module"], a.k)
            for cid, g in gold["criteria"].items():
                for q in g.get("evidence", []):
                    found[split][0] += quote_in_chunks(q, [h.chunk for h in hits[cid]])
                    found[split][1] += 1
        dev = found["dev"][0] / max(found["dev"][1], 1)
        test = found["test"][0] / max(found["test"][1], 1)
        print(f"{fusion:>6} {dw:5.1f} {lw:4.1f} {lam:5.2f} | {dev:.3f} | {test:.3f}")


if __name__ == "__main__":
    main()
