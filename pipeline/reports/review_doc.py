"""`review.json` (the CLI contract) and a readable French Markdown report of a review."""

from __future__ import annotations

from typing import Any

from pipeline.referentiel import Referentiel
from pipeline.reports.confidence import confidence_label
from pipeline.reports.wording import TO_VERIFY, backend_label
from pipeline.textnorm import clip
from pipeline.types import Review


def review_json(review: Review, ref: Referentiel) -> dict[str, Any]:
    """The `review.json` contract: the stored `Review` with criterion ids as `id` and level labels."""
    scale = ref.scale
    return {
        "run_id": review.run_id,
        "file": review.file,
        "dossier_sha256": review.dossier_sha256,
        "module": review.module,
        "referentiel": review.referentiel,
        "created_at": review.created_at,
        "warnings": review.warnings,
        "findings": [f.model_dump() for f in review.findings],
        "criteria": [
            {
                "id": d.criterion_id,
                "level": d.level,
                "label": scale.label(d.level) if d.level is not None else None,
                "confidence": d.confidence,
                "rationale": d.rationale,
                "present": d.present,
                "missing": d.missing,
                "gaps": [g.model_dump(mode="json") for g in d.gaps],
                "evidence": [
                    {
                        "chunk_id": e.chunk_id,
                        "quote": e.quote,
                        "page": e.page,
                        "section": e.section,
                        "why": e.why,
                        "start": e.start,
                        "end": e.end,
                        "match": e.match,
                        "match_ratio": e.match_ratio,
                        "to_verify": e.to_verify,
                    }
                    for e in d.evidence
                ],
                "status": d.status,
                "flags": d.flags,
                "dropped_quotes": d.dropped_quotes,
                "provenance": d.provenance.model_dump(exclude={"raw_response"}),
            }
            for d in review.criteria
        ],
        "competencies": [{"id": c.id, "verdict": c.verdict, "levels": c.levels} for c in review.competencies],
        "provenance": review.provenance.model_dump(mode="json"),
    }


def review_markdown(review: Review, ref: Referentiel) -> str:
    modality = ref.modality(review.module)
    lines = [
        f"# Pré-lecture du dossier « {review.file} »",
        "",
        f"Module {modality.id} — {modality.title} : {modality.subtitle}  ",
        f"Référentiel : {ref.title}  ",
        f"Analyse n° `{review.run_id}` du {review.created_at} — {backend_label(review.provenance.backend)}",
        "",
        "> **Ceci est une pré-lecture automatique.** Les niveaux sont des suggestions : un évaluateur humain "
        "confirme ou corrige chaque note. Chaque citation a été retrouvée mot pour mot dans le dossier.",
        "",
    ]
    if review.warnings:
        lines += ["## ⚠ Alertes", ""] + [f"- **{w}**" for w in review.warnings] + [""]
        manip = [f for f in review.findings if f.kind in ("manipulation", "hidden_text")]
        for f in manip:
            where = f"p. {f.page}" if f.page else (" > ".join(f.section) or "emplacement inconnu")
            lines.append(f"  - {where} — {f.detail} : « {clip(f.text, 300)} »")
        lines.append("")
    lines += ["## Synthèse par compétence", "", "| Compétence | Verdict suggéré | Niveaux |", "|---|---|---|"]
    for c in review.competencies:
        lv = ", ".join(f"{k} : {v if v is not None else '?'}" for k, v in c.levels.items())
        lines.append(f"| {c.id} | {c.verdict} | {lv} |")
    lines.append("")
    lines += ["## Détail par critère", ""]
    crit = ref.criteria_by_id
    for d in review.criteria:
        k = crit[d.criterion_id]
        label = ref.scale.label(d.level) if d.level is not None else "—"
        lines += [
            f"### {d.criterion_id} — niveau suggéré : {d.level if d.level is not None else '?'} ({label})"
            + (" — **à revoir**" if d.status == "à revoir" else ""),
            "",
            f"*{k.preamble + ' ' if k.preamble else ''}{k.text}*",
            "",
            f"{d.rationale} {confidence_label(d.confidence)}.",
            "",
        ]
        if d.evidence:
            lines.append("**Preuves citées :**")
            for e in d.evidence:
                where = ", ".join(x for x in (f"p. {e.page}" if e.page else "", e.section) if x)
                check = f" — **{TO_VERIFY}**" if e.to_verify else ""
                lines.append(f"- « {e.quote} » — {where}{check}")
            lines.append("")
        for title, items in (("Présent", d.present), ("Manque", d.missing), ("Signalements", d.flags)):
            if items:
                lines += [f"**{title} :**", *[f"- {x}" for x in items], ""]
    return "\n".join(lines) + "\n"
