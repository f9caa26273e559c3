"""Formative feedback for the candidate: what was found, what is missing, how to progress.

Everything a candidate sees goes through `build_feedback`, which copies only what may be
shown: never the tool's suggested level, its rationale or the alerts meant for the jury;
confirmed levels only when asked (`show_levels=True`). The JSON, HTML and DOCX renderings
all start from that one `Feedback` object.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from docx.document import Document as DocxDocument
from docx.shared import Pt, RGBColor
from pydantic import BaseModel, ConfigDict, Field

from pipeline.referentiel import Vocabulary
from pipeline.reports.grid import (
    add_run,
    clip,
    evidence_place,
    fmt_datetime,
    is_final,
    new_document,
    page_furniture,
    template_env,
    xml_safe,
)
from pipeline.reports.grid_data import CriterionLine, GridDoc
from pipeline.types import Gap

QUOTE_MAX_CHARS = 400
PENDING_LEVEL = "en attente de validation"
_GREY = RGBColor(0x6B, 0x6B, 0x6B)
_DARK = RGBColor(0x1F, 0x38, 0x64)


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FoundQuote(_M):
    quote: str
    where: str = Field(description="`p. 3` or the section name; empty when unknown.")


class FeedbackCriterion(_M):
    id: str
    preamble: str | None
    text: str = Field(description="Official criterion text.")
    found: list[FoundQuote]
    present: list[str]
    missing: list[str]
    advice: list[str] = Field(description="'Pour progresser': one actionable suggestion per missing item.")
    comment: str = Field(default="", description="The assessor's comment, once the grid is validated.")
    assessment: str | None = Field(
        default=None, description="What the confirmed level means (the scale's wording), once the grid is validated."
    )
    credited: bool = Field(default=False, description="Validated grid: the assessor found something in it.")
    level: int | None = Field(default=None, description="Confirmed level; only with show_levels.")
    label: str | None = Field(default=None, description="Confirmed label, or 'en attente de validation'.")


class FeedbackCompetency(_M):
    id: str
    statement: str
    verdict: str | None = Field(default=None, description="Confirmed verdict; only with show_levels.")
    criteria: list[FeedbackCriterion]


class Feedback(_M):
    referentiel_title: str
    module: str
    module_title: str
    candidate_ref: str
    file_name: str
    provisional: bool = Field(description="True while the assessor has not validated the grid.")
    self_check: bool = Field(default=False, description="A candidate's self-check: no assessor involved.")
    show_levels: bool
    scale: list[tuple[int, str, str]] = Field(description="(level, label, meaning); empty unless show_levels.")
    competencies: list[FeedbackCompetency]
    strengths: list[str] = Field(default_factory=list, description="Criteria the dossier handles well (summary).")
    priorities: list[str] = Field(default_factory=list, description="Criteria to work on first (summary).")
    organisation: str = Field(default="", description="Who sends the feedback.")
    dated: str = Field(default="", description="The date the feedback stands for (validation date, else today).")


# --- advice: each gap turned into something to do ------------------------------------------------


def advice_for(gap: Gap, criterion_text: str, vocabulary: Vocabulary, given_hints: set[str] | None = None) -> str:
    """Turn one typed gap into an actionable suggestion, tied to the part of the criterion it concerns.

    The advice comes from the referentiel's vocabulary (`gap_advice`, by gap kind); `given_hints`
    collects the habits already suggested for this criterion so that one is not repeated.
    """
    text = _lower_first(gap.text.strip().rstrip(".").strip())
    terms = ", ".join(gap.terms) or text
    sentence = vocabulary.gap_advice[gap.kind].format(terms=terms, text=text)
    parts = [sentence]
    given = given_hints if given_hints is not None else set()
    if gap.kind != "other":
        given.add(sentence)
    else:
        hint = _hint(gap.text, vocabulary)
        if hint and hint not in given:
            parts.append(hint)
            given.add(hint)
    if gap.kind == "no_evidence":
        clauses = _clauses(criterion_text)
        if len(clauses) > 1:
            parts.append("Points à couvrir : " + " ; ".join(f"« {c} »" for c in clauses) + ".")
    elif gap.kind in ("vocabulary", "other"):
        clause = _closest_clause(" ".join([gap.text, *gap.terms]), criterion_text)
        if clause:
            parts.append(f"Attendu du référentiel : « {clause} ».")
    return " ".join(parts)


def _lower_first(text: str) -> str:
    """`Les sources` -> `les sources`, but `RSE absente` stays (an acronym)."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def _hint(item: str, vocabulary: Vocabulary) -> str | None:
    low = item.lower()
    for h in vocabulary.advice_hints:
        if any(re.search(rf"\b{re.escape(k)}", low) for k in h.keys):
            return h.advice
    return None


_WORD = re.compile(r"[a-zà-öø-ÿœ]{5,}", re.I)
_STOPWORDS = frozenset(
    [
        "aucun",
        "aucune",
        "avoir",
        "cette",
        "comme",
        "dans",
        "elles",
        "entre",
        "leurs",
        "notions",
        "passage",
        "passages",
        "retenus",
        "selon",
        "sont",
        "toute",
        "toutes",
        "trouvé",
        "trouvée",
        "trouvées",
        "critère",
        "dossier",
    ]
)


def _stems(text: str) -> set[str]:
    return {w.lower()[:6] for w in _WORD.findall(text) if w.lower() not in _STOPWORDS}


def _clauses(criterion_text: str) -> list[str]:
    """The criterion cut at `;`, `:` and at commas that open a new clause."""
    parts = re.split(r"\s*[;:]\s*|,\s+(?=[a-zà-ÿ])", criterion_text)
    return [c.strip(" ,;:.") for c in parts if c.strip(" ,;:.")]


def _closest_clause(item: str, criterion_text: str) -> str | None:
    """The clause of the criterion sharing most words with the missing item (none when nothing is shared)."""
    clauses = _clauses(criterion_text)
    if len(clauses) < 2:
        return None
    want = _stems(item)
    best = max((len(want & _stems(c)), -i, c) for i, c in enumerate(clauses))
    return best[2] if best[0] > 0 else None


def advice_list(line: CriterionLine, vocabulary: Vocabulary, final: bool = False, top: bool = False) -> list[str]:
    """'Pour progresser' for one criterion: one suggestion per gap, or the criterion itself if untouched.

    Once the grid is validated (`final`), the advice follows the assessor: nothing says a criterion
    is untouched when the assessor found something in it, and a criterion at the top of the scale
    (`top`) gets no advice.
    """
    if final and top:
        return []
    given: set[str] = set()
    gaps = shown_gaps(line, final)
    if not gaps and not line.evidence and not (final and _credited(line)):
        gaps.append(Gap(text="Aucun passage du dossier ne traite ce critère.", kind="no_evidence"))
    out = [advice_for(g, line.label if g.kind == "no_evidence" else line.text, vocabulary, given) for g in gaps]
    return list(dict.fromkeys(a for a in out if a))


def _credited(line: CriterionLine) -> bool:
    """The assessor found something in this criterion (a level above the bottom of the scale)."""
    return line.confirmed_level is not None and line.confirmed_level > 0


def shown_gaps(line: CriterionLine, final: bool) -> list[Gap]:
    """The tool's gaps a candidate may read: a validated grid never contradicts the assessor."""
    if final and _credited(line):
        return [g for g in line.gaps if g.kind != "no_evidence"]
    return list(line.gaps)


_JARGON = (
    (re.compile(r"\s*\(à vérifier\)"), ""),
    (re.compile(r"absente?s? des passages retenus", re.I), "non trouvé dans le dossier"),
    (re.compile(r"\s*;\s*le plus proche\s*:.*$"), "."),
)


def plain_missing(gap: Gap) -> str:
    """A gap in plain French for the candidate (no tool wording such as retrieved passages)."""
    if gap.kind == "no_evidence":
        return "Ce critère n’est pas traité de façon repérable dans le dossier."
    if gap.kind == "vocabulary" and gap.terms:
        return "Notions attendues à développer : " + ", ".join(gap.terms) + "."
    text = gap.text
    for pattern, repl in _JARGON:
        text = pattern.sub(repl, text)
    return text.strip()


# --- the candidate-facing document ---------------------------------------------------------------


def build_feedback(doc: GridDoc, show_levels: bool = False, organisation: str = "") -> Feedback:
    """What the candidate may see of a grid: never a suggested level, a rationale or an alert.

    Once the grid is validated, each criterion opens with the assessor's comment and the meaning of
    the confirmed level (its number only with `show_levels`), and nothing contradicts the assessor.
    """
    final = is_final(doc) and not doc.self_check
    meanings = {level: meaning for level, _, meaning in doc.scale}
    top = max(meanings) if meanings else None
    comps = []
    strengths: list[str] = []
    priorities: list[str] = []
    for block in doc.competencies:
        criteria = []
        for line in block.criteria:
            level = line.confirmed_level if show_levels else None
            label = None
            if show_levels:
                label = PENDING_LEVEL if level is None else (line.confirmed_label or str(level))
            confirmed = line.confirmed_level if final else None
            at_top = confirmed is not None and confirmed == top
            gaps = [] if final and at_top else shown_gaps(line, final)
            criteria.append(
                FeedbackCriterion(
                    id=line.id,
                    preamble=line.preamble,
                    text=line.text,
                    found=[
                        FoundQuote(quote=clip(e.quote, QUOTE_MAX_CHARS), where=evidence_place(e)) for e in line.evidence
                    ],
                    present=list(line.present),
                    missing=[plain_missing(g) for g in gaps],
                    advice=advice_list(line, doc.vocabulary, final=final, top=at_top),
                    comment=line.comment.strip() if final else "",
                    assessment=meanings.get(confirmed) if confirmed is not None else None,
                    credited=final and _credited(line),
                    level=level,
                    label=label,
                )
            )
            _summarise(line, doc, final, strengths, priorities)
        comps.append(
            FeedbackCompetency(
                id=block.id,
                statement=block.statement,
                verdict=block.confirmed_verdict if show_levels else None,
                criteria=criteria,
            )
        )
    when = doc.finalized_at if final and doc.finalized_at else dt.datetime.now(dt.UTC)
    return Feedback(
        referentiel_title=doc.referentiel_title,
        module=doc.module,
        module_title=doc.module_title,
        candidate_ref=doc.candidate_ref,
        file_name=doc.file_name,
        provisional=not final and not doc.self_check,
        self_check=doc.self_check,
        show_levels=show_levels,
        scale=list(doc.scale) if show_levels else [],
        competencies=comps,
        strengths=strengths,
        priorities=priorities,
        organisation=organisation.strip(),
        dated=fmt_datetime(when, with_time=False),
    )


def _summarise(line: CriterionLine, doc: GridDoc, final: bool, strengths: list[str], priorities: list[str]) -> None:
    """A criterion goes to the strengths or the priorities: by the assessor's level once validated
    (the competency rule's level), else by what the pre-reading found."""
    name = f"{line.id} — {clip(line.text, 110)}"
    if final and line.confirmed_level is not None and doc.acquired_min_level is not None:
        (strengths if line.confirmed_level >= doc.acquired_min_level else priorities).append(name)
    elif not final:
        if not line.evidence or any(g.kind == "no_evidence" for g in line.gaps):
            priorities.append(name)
        elif len(line.gaps) <= 1:
            strengths.append(name)


def feedback_json(doc: GridDoc, show_levels: bool = False, organisation: str = "") -> dict[str, Any]:
    return build_feedback(doc, show_levels, organisation).model_dump(mode="json")


def feedback_html(doc: GridDoc, show_levels: bool = False, organisation: str = "") -> str:
    """Standalone printable HTML page (A4 portrait)."""
    fb = build_feedback(doc, show_levels, organisation)
    return template_env().get_template("feedback.html.j2").render(fb=fb, texts=_TEXTS, closing=closing(fb))


_TEXTS = {
    "title": "Retour sur votre dossier",
    "intro": "Ce document reprend, critère par critère, ce que l’évaluation a relevé dans votre dossier, ce qui "
    "manque encore et des pistes concrètes pour progresser. Les citations sont reprises mot pour mot de "
    "votre dossier.",
    "provisional": "Document provisoire : la grille n’a pas encore été validée par l’évaluateur.",
    "self_check": "Auto-évaluation : pré-lecture automatique de votre brouillon, sans valeur de note. Elle vous "
    "aide à repérer ce qui manque avant le dépôt ; seul le jury évalue le dossier définitif.",
    "found": "Ce qui a été trouvé",
    "missing": "Ce qui manque",
    "advice": "Pour progresser",
    "nothing_found": "Aucun passage de votre dossier n’a été rattaché à ce critère.",
    "credited": "Votre évaluateur a relevé des éléments sur ce critère (voir son commentaire).",
    "comment": "Commentaire de l’évaluateur",
    "assessment": "Appréciation",
    "summary": "En résumé",
    "strengths": "Points forts",
    "priorities": "Priorités de travail",
    "no_strengths": "Aucun critère n’atteint encore le niveau attendu : appuyez-vous sur les pistes ci-dessus.",
    "no_priorities": "Aucun critère en dessous du niveau attendu.",
    "nothing_missing": "Aucun manque particulier n’a été relevé sur ce critère.",
    "nothing_advice": "Continuez ainsi : vous pouvez encore renforcer ce point en chiffrant et en justifiant vos "
    "choix.",
    "top": "Ce critère est pleinement traité : rien à ajouter.",
    "level": "Niveau retenu",
    "verdict": "Compétence",
    "scale": "Échelle de notation",
}


def closing(fb: Feedback) -> str:
    """The sender and the date that end the feedback."""
    who = fb.organisation or "L’équipe d’évaluation"
    return f"{who}, le {fb.dated}"


def nothing_found_text(crit: FeedbackCriterion) -> str:
    return _TEXTS["credited"] if crit.credited else _TEXTS["nothing_found"]


def feedback_docx(doc: GridDoc, path: Path, show_levels: bool = False, organisation: str = "") -> None:
    """Write the feedback as an A4 portrait Word document at `path`."""
    fb = build_feedback(doc, show_levels, organisation)
    document = new_document(landscape=False)
    page_furniture(document, f"{_TEXTS['title']} — {fb.candidate_ref or fb.file_name} — module {fb.module}")
    document.add_heading(xml_safe(_TEXTS["title"]), level=0)
    par = document.add_paragraph()
    add_run(par, f"Module {fb.module} — {fb.module_title}", bold=True)
    add_run(document.add_paragraph(), f"{fb.referentiel_title} — dossier « {fb.file_name} »", size=9, color=_GREY)
    add_run(document.add_paragraph(), _TEXTS["intro"])
    if fb.provisional:
        add_run(document.add_paragraph(), _TEXTS["provisional"], italic=True, color=_GREY)
    if fb.self_check:
        add_run(document.add_paragraph(), _TEXTS["self_check"], italic=True, color=_GREY)
    for comp in fb.competencies:
        heading = document.add_heading(level=1)
        add_run(heading, f"Compétence {comp.id}")
        add_run(document.add_paragraph(), comp.statement, italic=True, size=9, color=_GREY)
        if comp.verdict:
            add_run(document.add_paragraph(), f"{_TEXTS['verdict']} {comp.verdict}", bold=True, color=_DARK)
        for crit in comp.criteria:
            _docx_criterion(document, crit, fb.show_levels)
    if fb.show_levels and fb.scale:
        heading = document.add_heading(level=2)
        add_run(heading, _TEXTS["scale"])
        for level, label, meaning in fb.scale:
            par = document.add_paragraph(style="List Bullet")
            add_run(par, f"{level} — {label} : ", bold=True, size=9)
            add_run(par, meaning, size=9)
    heading = document.add_heading(level=1)
    add_run(heading, _TEXTS["summary"])
    heading.paragraph_format.keep_with_next = True
    for title, items, empty in (
        (_TEXTS["strengths"], fb.strengths, _TEXTS["no_strengths"]),
        (_TEXTS["priorities"], fb.priorities, _TEXTS["no_priorities"]),
    ):
        _docx_subhead(document, title)
        for item in items or [empty]:
            add_run(document.add_paragraph(style="List Bullet"), item)
    par = document.add_paragraph()
    par.paragraph_format.space_before = Pt(12)
    add_run(par, closing(fb), bold=True)
    document.save(str(path))


def _docx_criterion(document: DocxDocument, crit: FeedbackCriterion, show_levels: bool) -> None:
    heading = document.add_heading(level=2)
    add_run(heading, f"Critère {crit.id}")
    par = document.add_paragraph()
    if crit.preamble:
        add_run(par, crit.preamble + " ", italic=True, size=9, color=_GREY)
    add_run(par, crit.text, size=9)
    if show_levels:
        par = document.add_paragraph()
        add_run(par, f"{_TEXTS['level']} : ", bold=True)
        add_run(par, f"{crit.level} — {crit.label}" if crit.level is not None else str(crit.label))
    if crit.comment:
        par = document.add_paragraph()
        add_run(par, f"{_TEXTS['comment']} : ", bold=True, color=_DARK)
        add_run(par, crit.comment)
    if crit.assessment:
        par = document.add_paragraph()
        add_run(par, f"{_TEXTS['assessment']} : ", bold=True, color=_DARK)
        add_run(par, crit.assessment)

    _docx_subhead(document, _TEXTS["found"])
    for item in crit.present:
        add_run(document.add_paragraph(style="List Bullet"), item)
    for q in crit.found:
        par = document.add_paragraph(style="List Bullet")
        add_run(par, f"« {q.quote} »", italic=True)
        if q.where:
            add_run(par, f" ({q.where})", size=9, color=_GREY)
    if not crit.found and not crit.present:
        add_run(document.add_paragraph(), nothing_found_text(crit), italic=True, color=_GREY)

    _docx_subhead(document, _TEXTS["missing"])
    for item in crit.missing:
        add_run(document.add_paragraph(style="List Bullet"), item)
    if not crit.missing:
        add_run(document.add_paragraph(), _TEXTS["nothing_missing"], italic=True, color=_GREY)

    _docx_subhead(document, _TEXTS["advice"])
    default = _TEXTS["top"] if crit.assessment and not crit.advice and not crit.missing else _TEXTS["nothing_advice"]
    for item in crit.advice or [default]:
        add_run(document.add_paragraph(style="List Bullet"), item)


def _docx_subhead(document: DocxDocument, text: str) -> None:
    par = document.add_paragraph()
    par.paragraph_format.space_before = Pt(4)
    par.paragraph_format.keep_with_next = True
    add_run(par, text, bold=True, color=_DARK)
