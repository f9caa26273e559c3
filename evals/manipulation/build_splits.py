"""Build dev.jsonl / test.jsonl from the hand-written TSV files (deterministic, stratified by kind).

The sentences were written before the detector was changed, apart from its patterns. The split
is fixed by a hash of the text: within each (label, kind), sentences sorted by hash alternate
dev / test. Tune on dev only; test errors are never read to change the detector.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).parent


def _rows(name: str, label: str) -> list[dict[str, str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, lang, text = line.split("\t", 2)
        rows.append({"text": text, "label": label, "kind": kind, "lang": lang})
    return rows


def main() -> None:
    rows = _rows("injections.tsv", "injection") + _rows("ordinary.tsv", "ordinary")
    texts = [r["text"] for r in rows]
    assert len(texts) == len(set(texts)), "duplicate sentence"
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault((r["label"], r["kind"]), []).append(r)
    split: dict[str, list[dict[str, str]]] = {"dev": [], "test": []}
    for key in sorted(groups):
        ordered = sorted(groups[key], key=lambda r: hashlib.sha1(r["text"].encode()).hexdigest())
        for i, r in enumerate(ordered):
            split["dev" if i % 2 == 0 else "test"].append(r)
    for name, items in split.items():
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for r in items:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        n_inj = sum(r["label"] == "injection" for r in items)
        print(f"{name}: {len(items)} sentences, {n_inj} injections, {len(items) - n_inj} ordinary")


if __name__ == "__main__":
    main()
