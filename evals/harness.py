"""Evaluation harness: runs the pipeline on a labelled folder (gold-format.md) and scores it.

Reports evidence recall@k (dense-only, BM25-only, hybrid), grounding, mark agreement
(exact, adjacent, QWK), verdict accuracy, injection flags; overall, by split (dev/test),
by module and by competency; plus a majority-level baseline. Evals are not tests: this
measures quality and writes a report with the commit, settings and prompt hashes.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.quality import QuoteAudit, audit_quotes, calibration_error, confident_share, format_agreement
from pipeline.drafting import Drafter
from pipeline.errors import ReviewError
from pipeline.grounding import Searchable
from pipeline.manipulation import warnings_for
from pipeline.prompts import draft_prompts
from pipeline.referentiel import Referentiel
from pipeline.reports.agreement import cohen_kappa
from pipeline.retrieve import Mode, build_query
from pipeline.review import make_drafter, run_review
from pipeline.settings import Settings
from pipeline.textnorm import normalise, words
from pipeline.types import Chunk

RECALL_KS = (4, 8, 12)
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")


@dataclass
class Row:
    """One (case, criterion) pair."""

    case: str
    split: str
    module: str
    criterion: str
    gold: int
    pred: int | None
    features: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0
    quotes: int = 0


@dataclass
class Quote:
    case: str
    split: str
    module: str
    criterion: str
    found: dict[Mode, dict[int, bool]]


def quote_in_chunks(quote: str, chunks: list[Chunk]) -> bool:
    """gold-format.md: found when >= 80% of the quote's normalised word tokens lie inside one chunk."""
    q = words(normalise(quote))
    if not q:
        return False
    for c in chunks:
        have = Counter(words(c.text))
        inside = sum(min(n, have[w]) for w, n in Counter(q).items())
        if inside >= 0.8 * len(q):
            return True
    return False


def qwk(gold: list[int], pred: list[int], levels: list[int]) -> float | None:
    """Quadratic weighted kappa (the same computation as the agreement report)."""
    if len(gold) < 2:
        return None
    k = cohen_kappa(gold, pred, levels, "quadratic")
    return round(k, 4) if k is not None else None


def _git_commit(root: Path) -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _splits(folder: Path) -> dict[str, str]:
    f = folder / "splits.json"
    if not f.exists():
        return {}
    data = json.loads(f.read_text(encoding="utf-8"))
    return {name: split for split in ("dev", "test") for name in data.get(split, [])}


def run_eval(
    folder: Path,
    settings: Settings,
    ref: Referentiel,
    k: int,
    drafter: Drafter | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    splits = _splits(folder)
    settings = settings.model_copy(update={"k": k})  # the drafts use the k that is reported
    drafter = drafter or make_drafter(settings)
    rows: list[Row] = []
    quotes: list[Quote] = []
    shown = grounded = 0
    verdicts: list[tuple[str, str, str, bool]] = []  # case, split, module, correct
    injection: dict[str, bool] = {}
    expected_injection: dict[str, bool] = {}
    errors: dict[str, str] = {}
    seconds: list[float] = []
    audits: list[QuoteAudit] = []
    ks = sorted({*RECALL_KS, k})
    for gold_file in sorted(folder.glob("*/gold.json")):
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        name = gold_file.parent.name
        split = splits.get(name, "test")
        module = gold["module"]
        for fname in gold["files"]:
            case = f"{name}/{fname}"
            t0 = time.perf_counter()
            try:  # exactly what ships: the review of the file under these settings
                outcome = run_review(gold_file.parent / fname, module, settings, ref, drafter=drafter)
                dossier, chunks, index = outcome.dossier, outcome.chunks, outcome.index
                # measurement only: each ranking mode at the largest k, to report recall@k per mode
                crits = ref.criteria_for(module)
                hits_by_mode = {
                    mode: {c.id: index.retrieve(build_query(ref, c), max(ks), mode) for c in crits} for mode in MODES
                }
                drafts = {d.criterion_id: d for d in outcome.review.criteria}
            except ReviewError as e:
                errors[case] = f"{type(e).__name__}: {e}"
                log(f"  {case}: ERROR {e}")
                continue
            except Exception as e:  # one broken case never stops the run
                errors[case] = f"unexpected {type(e).__name__}: {e}"
                log(f"  {case}: UNEXPECTED {type(e).__name__}: {e}")
                continue
            seconds.append(time.perf_counter() - t0)
            full = Searchable(dossier.text)
            for cid, g in gold["criteria"].items():
                d = drafts.get(cid)
                feats: dict[str, float] = {}
                if d is not None and d.provenance.raw_response and d.provenance.backend == "offline":
                    feats = json.loads(d.provenance.raw_response).get("features", {})
                rows.append(
                    Row(
                        case,
                        split,
                        module,
                        cid,
                        int(g["level"]),
                        d.level if d else None,
                        feats,
                        d.confidence if d else 0.0,
                        len(d.evidence) if d else 0,
                    )
                )
                for q in g.get("evidence", []):
                    found = {
                        mode: {kk: quote_in_chunks(q, [h.chunk for h in hits_by_mode[mode][cid][:kk]]) for kk in ks}
                        for mode in MODES
                    }
                    quotes.append(Quote(case, split, module, cid, found))
            for d in drafts.values():
                for ev in d.evidence:
                    shown += 1
                    grounded += full.find(ev.quote, fuzzy=False) is not None
            audits.append(audit_quotes(case, split, dossier, outcome.review, ref))
            pred_verdicts = {c.id: c.verdict for c in outcome.review.competencies}
            for comp in ref.competencies_for(module):
                gold_levels: list[int | None] = [gold["criteria"][c.id]["level"] for c in comp.criteria]
                verdicts.append((case, split, module, ref.verdict(gold_levels) == pred_verdicts[comp.id]))
            flagged = any(f.kind in ("manipulation", "hidden_text") for f in dossier.findings)
            injection[case] = flagged
            expected_injection[case] = bool(gold.get("injection", False))
            log(
                f"  {case}: {time.perf_counter() - t0:.1f}s, {len(chunks)} chunks, "
                f"warnings {len(warnings_for(dossier))}"
            )

    levels = [lv.level for lv in ref.scale.levels]
    majority = _majority([r for r in rows if r.split == "dev"] or rows)

    def metrics(rs: list[Row], qs: list[Quote], vs: list[bool]) -> dict[str, Any]:
        scored = [r for r in rs if r.pred is not None]
        g = [r.gold for r in scored]
        p = [int(r.pred) for r in scored if r.pred is not None]
        conf = [(r.confidence, r.gold, int(r.pred)) for r in scored if r.pred is not None]
        return {
            "criteria": len(rs),
            "evidence_quotes": len(qs),
            "evidence_recall_at_k": _ratio(sum(q.found["hybrid"][k] for q in qs), len(qs)),
            "recall": {
                mode: {str(kk): _ratio(sum(q.found[mode][kk] for q in qs), len(qs)) for kk in ks} for mode in MODES
            },
            "mark_exact": _ratio(sum(a == b for a, b in zip(g, p, strict=True)), len(g)),
            "mark_adjacent": _ratio(sum(abs(a - b) <= 1 for a, b in zip(g, p, strict=True)), len(g)),
            "qwk": qwk(g, p, levels),
            "verdict_accuracy": _ratio(sum(vs), len(vs)),
            "baseline_majority": {
                "level": majority,
                "mark_exact": _ratio(sum(a == majority for a in g), len(g)),
                "mark_adjacent": _ratio(sum(abs(a - majority) <= 1 for a in g), len(g)),
                "qwk": qwk(g, [majority] * len(g), levels),
            },
            "calibration_error": calibration_error(conf),
            "format_agreement": format_agreement([(r.case, r.criterion, r.pred) for r in rs]),
            "confident": confident_share(conf, settings.confident_at, len(rs)),
            "gold_levels": dict(sorted(Counter(g).items())),
            "pred_levels": dict(sorted(Counter(p).items())),
        }

    result: dict[str, Any] = {
        "cases": len({r.case for r in rows}) + len(errors),
        **metrics(rows, quotes, [v[3] for v in verdicts]),
        "k": k,
        "grounded_quote_rate": _ratio(grounded, shown),
        "quotes_shown": shown,
        **QuoteAudit.merge(audits).rates(),
        "quote_audit_by_split": {
            s: QuoteAudit.merge([a for a in audits if a.split == s]).rates() for s in ("dev", "test")
        },
        "injection_flagged": injection,
        "injection_expected": expected_injection,
        "injection_detection": {
            "true_positive": sum(injection[c] and expected_injection[c] for c in injection),
            "false_positive": sum(injection[c] and not expected_injection[c] for c in injection),
            "false_negative": sum(not injection[c] and expected_injection[c] for c in injection),
        },
        "errors": errors,
        "seconds_per_case": round(statistics.median(seconds), 2) if seconds else None,
        "commit": _git_commit(Path(__file__).resolve().parent),  # the code measured, wherever the cases are
        "settings": settings.model_dump(mode="json", exclude={"llm_api_key", "data_dir"}),
        "prompt_hashes": {"draft_criterion": draft_prompts().hash} if drafter.name != "offline" else {},
        "drafter": drafter.name,
        "splits": {s: sorted({r.case for r in rows if r.split == s}) for s in ("dev", "test")},
        "by_split": {},
        "by_module": {},
        "by_competency": {},
        "rows": [r.__dict__ for r in rows],
    }
    if drafter.name == "offline":
        from pipeline.drafting.level import level_model_for

        models = {m: level_model_for(ref, m) for m in sorted({r.module for r in rows})}
        result["offline_model_fitted_on"] = {m: list(lm.fitted_on) if lm else None for m, lm in models.items()}
    for s in ("dev", "test"):
        result["by_split"][s] = metrics(
            [r for r in rows if r.split == s],
            [q for q in quotes if q.split == s],
            [v[3] for v in verdicts if v[1] == s],
        )
    for m in sorted({r.module for r in rows}):
        result["by_module"][m] = metrics(
            [r for r in rows if r.module == m],
            [q for q in quotes if q.module == m],
            [v[3] for v in verdicts if v[2] == m],
        )
        for s in ("dev", "test"):
            result["by_module"][m][s] = metrics(
                [r for r in rows if r.module == m and r.split == s],
                [q for q in quotes if q.module == m and q.split == s],
                [v[3] for v in verdicts if v[2] == m and v[1] == s],
            )
    comp_of = {cid: cid.split(".")[0] for cid in ref.criteria_by_id}
    by_comp: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_comp[comp_of[r.criterion]].append(r)
    for comp_id, rs in sorted(by_comp.items(), key=lambda kv: int(kv[0][1:])):
        result["by_competency"][comp_id] = metrics(rs, [q for q in quotes if comp_of[q.criterion] == comp_id], [])
    return result


def _majority(rows: list[Row]) -> int:
    c = Counter(r.gold for r in rows)
    return c.most_common(1)[0][0] if c else 0


def _ratio(a: float, b: int) -> float | None:
    return round(a / b, 4) if b else None


def markdown_table(result: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    k = result["k"]
    lines = [
        f"# Évaluation — commit `{result['commit'][:12]}`, moteur {result['drafter']}, k = {k}",
        "",
        f"{result['cases']} cas, {result['criteria']} couples (cas, critère), erreurs : {len(result['errors'])}, "
        f"médiane {result['seconds_per_case']} s par cas, citations affichées vérifiées : "
        f"{fmt(result['grounded_quote_rate'])} ({result['quotes_shown']}).",
        "",
        "| périmètre | critères | rappel@k dense | rappel@k BM25 | rappel@k hybride | exact | ±1 | QWK | verdicts | "
        "majorité exact | majorité QWK |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    scopes = [("tout", result)] + [(s, result["by_split"][s]) for s in ("dev", "test")]
    scopes += [(f"{m}", v) for m, v in result["by_module"].items()]
    scopes += [(f"{m} {s}", v[s]) for m, v in result["by_module"].items() for s in ("dev", "test")]
    for name, m in scopes:
        r = m["recall"]
        lines.append(
            f"| {name} | {m['criteria']} | {fmt(r['dense'][str(k)])} | {fmt(r['lexical'][str(k)])} | "
            f"{fmt(r['hybrid'][str(k)])} | {fmt(m['mark_exact'])} | {fmt(m['mark_adjacent'])} | {fmt(m['qwk'])} | "
            f"{fmt(m['verdict_accuracy'])} | {fmt(m['baseline_majority']['mark_exact'])} | "
            f"{fmt(m['baseline_majority']['qwk'])} |"
        )
    lines += [
        "",
        "Rappel des preuves par k (test) :",
        "",
        "| mode | " + " | ".join(f"k={kk}" for kk in result["by_split"]["test"]["recall"]["dense"]) + " |",
        "|---|" + "---|" * len(result["by_split"]["test"]["recall"]["dense"]),
    ]
    for mode, vals in result["by_split"]["test"]["recall"].items():
        lines.append(f"| {mode} | " + " | ".join(fmt(v) for v in vals.values()) + " |")
    lines += ["", "| compétence | critères | rappel@k | exact | ±1 |", "|---|---|---|---|---|"]
    for comp, m in result["by_competency"].items():
        lines.append(
            f"| {comp} | {m['criteria']} | {fmt(m['evidence_recall_at_k'])} | {fmt(m['mark_exact'])} | "
            f"{fmt(m['mark_adjacent'])} |"
        )
    lines += [
        "",
        "Manipulation signalée : "
        + ", ".join(f"{c} {'oui' if v else 'non'}" for c, v in result["injection_flagged"].items()),
    ]
    if result["errors"]:
        lines += ["", "Erreurs :"] + [f"- {c} : {e}" for c, e in result["errors"].items()]
    return "\n".join(lines) + "\n"
