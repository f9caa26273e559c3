"""What an assessor is shown, measured on documents without labels.

    python -m evals.audit_unlabelled DIR [--modules M1,M2] [--data-dir D]

Reviews every PDF and DOCX of DIR (real public documents, never committed: they carry no
licence) with the settings of the environment, module by module, and prints per file and in
total the measures that need no gold: non-content quotes, quotes cited for three criteria or
more, gaps contradicted by the criterion's own quotes, quotes dropped at grounding, and the
suggested levels, with examples of each defect to look at. Our samples were written for the
project and flatter it; these are documents nobody here wrote.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

from evals.quality import QuoteAudit, audit_quotes
from pipeline.errors import ReviewError
from pipeline.referentiel import resolve_referentiel
from pipeline.review import run_review
from pipeline.settings import Settings

MEASURES = ("shown", "dropped", "non_content", "reused", "gaps", "contradicted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--modules", default="M1,M2")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    ref = resolve_referentiel()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="audit-"))
    settings = Settings(data_dir=data_dir)
    settings.ensure_dirs()
    total = Counter[str]()
    rows = []
    for path in sorted(args.folder.iterdir()):
        if path.suffix.lower() not in (".pdf", ".docx"):
            continue
        for module in args.modules.split(","):
            try:
                outcome = run_review(path, module, settings, ref)
            except ReviewError as e:
                print(f"{path.name} {module}: {e.user_message}")
                continue
            audit: QuoteAudit = audit_quotes(path.name, "unlabelled", outcome.dossier, outcome.review, ref)
            figures = {k: getattr(audit, k) for k in MEASURES}
            total.update(figures)
            levels = Counter(str(c.level) for c in outcome.review.criteria)
            rows.append({"file": path.name, "module": module, **figures, "levels": dict(levels)})
            shown = ", ".join(f"{k} {v}" for k, v in figures.items())
            print(f"{path.name} {module}: {shown}; levels {dict(levels)}")
            for kind, examples in audit.examples.items():
                for example in examples[:3]:
                    print(f"    {kind}: {example}")
    rates = {
        "non_content_quote_rate": round(total["non_content"] / max(total["shown"], 1), 4),
        "quote_reuse_rate": round(total["reused"] / max(total["shown"], 1), 4),
        "gap_contradiction_rate": round(total["contradicted"] / max(total["gaps"], 1), 4),
        "pre_grounding_drop_rate": round(total["dropped"] / max(total["shown"] + total["dropped"], 1), 4),
    }
    print(f"total over {len(rows)} reviews: {dict(total)}")
    print(rates)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "total": dict(total), **rates}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
