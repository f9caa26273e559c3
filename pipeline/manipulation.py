"""Detect text written to manipulate an automatic grader (French and English).

Flagged passages become `manipulation` findings with their span in the dossier text; the
chunker marks chunks that hold them, the drafting stage never sends them to a model and
never cites them, and every output shows a warning first. Detection never moves a mark.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.textnorm import fold
from pipeline.types import Dossier, Finding

_AI = r"(?:ia|i\.a\.|intelligence artificielle|ai|llm|gpt|chatgpt|mod[eè]le(?: de langage)?|assistant|algorithme|robot|outil|logiciel|syst[eè]me)"
_GRADER = r"(?:correcteur|correctrice|[ée]valuateur|[ée]valuatrice|notation|jury|examinateur|grader|assessor|evaluator|marker|reviewer|scorer)"
_TOP = r"(?:maximale?s?|maximum|max|la plus (?:haute|[ée]lev[ée]e)|parfaite?s?|compl[eè]tes?|3 ?/ ?3|20 ?/ ?20|full|highest|top|perfect)"
_LEVEL_WORD = r"(?:ma[iî]tris[ée]e?s?|acquise?s?|valid[ée]e?s?|satisfaisante?s?|excellent|3 ?/ ?3|20 ?/ ?20|note maximale|full marks)"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "instruction d’ignorer les consignes",
        re.compile(
            r"\b(?:ignore[rz]?|oublie[rz]?|ne tiens? pas compte|ne tenez pas compte|disregard|forget|ignore)\b.{0,40}"
            r"\b(?:instructions?|consignes?|r[eè]gles?|prompts?|directives?|(?:messages?|indications?) pr[ée]c[ée]dent)",
        ),
    ),
    (
        "demande de note maximale",
        re.compile(
            r"\b(?:attribue[rz]?|donne[rz]?|accorde[rz]?|mets|mettez|met|assign|give|award|grant|rate)\b.{0,50}"
            rf"\b(?:notes?|points?|[ée]valuations?|niveau|marks?|scores?|grades?)\b.{{0,25}}{_TOP}"
        ),
    ),
    (
        "demande de note maximale",
        re.compile(rf"\b(?:m[ée]rite|vaut|deserves?)\b.{{0,30}}\b(?:note|niveau|marks?|score)\b.{{0,15}}{_TOP}"),
    ),
    (
        "note adressée à l’outil d’évaluation",
        re.compile(
            rf"\b(?:attention|intention|note|message|instruction|consigne|remarque)s?\s+(?:[àa]\s+)?(?:l[’']|la |le |du |de l[’']|des |au |aux |pour (?:l[’']|le |la )|to (?:the )?)"
            rf"(?:{_AI}|{_GRADER})\b.{{0,30}}(?:{_GRADER}|automatique|automatis[ée]e?|{_AI})?"
        ),
    ),
    (
        "adresse directe à une IA",
        re.compile(
            rf"\b(?:{_AI}|{_GRADER})\s+(?:{_GRADER}|automatique|automatis[ée]e?|d[’']?[ée]valuation(?: automatique)?)\b\s*[:,]"
        ),
    ),
    (
        "adresse directe à une IA",
        re.compile(
            r"\b(?:tu es|vous [eê]tes|you are|en tant qu[’']|as an?)\s+(?:un |une |an? |the )?(?:ia|ai|llm|assistant|mod[eè]le de langage|language model|grader)\b"
        ),
    ),
    (
        "fausse ligne d’évaluation",
        re.compile(
            rf"\b(?:[ée]valuation|appr[ée]ciation|avis|note|notation|d[ée]cision|verdict)s?\s+(?:finale?\s+)?(?:du|de l[’']|des)\s+{_GRADER}\b.{{0,80}}{_LEVEL_WORD}"
        ),
    ),
    (
        "fausse ligne d’évaluation",
        re.compile(
            rf"\b(?:tous les|l[’']ensemble des|chacun des|chaque) (?:crit[eè]res?|comp[ée]tences?)\b.{{0,60}}{_LEVEL_WORD}"
        ),
    ),
    ("fausse ligne d’évaluation", re.compile(rf"\bc\d{{1,2}}\.\d\b.{{0,30}}\b(?:niveau|note)\s*:?\s*{_LEVEL_WORD}")),
    (
        "affirmation adressée à l’évaluation",
        re.compile(
            r"\b(?:ce|le pr[ée]sent|this) (?:dossier|document|m[ée]moire|submission|essay)\b.{0,40}"
            r"\b(?:r[ée]pond|satisfait|remplit|valide|meets|satisfies|fulfils|fulfills)\b.{0,30}"
            r"\b(?:tous|l[’']ensemble|chacun|every|all)\b.{0,20}\b(?:crit[eè]res?|criteria|criterion|exigences)"
        ),
    ),
]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")


def _strip_accents_same_length(text: str) -> str:
    out = []
    for c in text:
        base = unicodedata.normalize("NFD", c)[0]
        out.append(base if len(base) == 1 else c)
    return "".join(out)


def scan(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, reason) of suspicious sentences in a normalised text."""
    key = fold(text)
    key_plain = _strip_accents_same_length(key)
    hits: list[tuple[int, int, str]] = []
    for reason, pattern in _PATTERNS:
        for k in (key, key_plain):
            for m in pattern.finditer(k):
                start, end = _sentence_around(text, m.start(), m.end())
                if not any(s <= start and end <= e for s, e, _ in hits):
                    hits = [h for h in hits if not (start <= h[0] and h[1] <= end)]
                    hits.append((start, end, reason))
    return sorted(hits)


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    s = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        s = m.end()
    m2 = _SENTENCE_END.search(text, end)
    e = m2.start() if m2 else len(text)
    return s, e


def detect_manipulation(dossier: Dossier) -> list[Finding]:
    """Manipulation findings for visible passages, and for hidden text that carries instructions."""
    findings: list[Finding] = []
    for block in dossier.blocks:
        for start, end, reason in scan(block.text):
            findings.append(
                Finding(
                    kind="manipulation",
                    text=block.text[start:end],
                    page=block.page,
                    section=block.section,
                    detail=f"Passage visible qui semble s’adresser à l’outil d’évaluation ({reason}) : "
                    "exclu de l’analyse et jamais cité comme preuve.",
                    start=block.start + start,
                    end=block.start + end,
                )
            )
    for hidden in [f for f in dossier.findings if f.kind == "hidden_text"]:
        hits = scan(hidden.text)
        if hits:
            findings.append(
                Finding(
                    kind="manipulation",
                    text=hidden.text,
                    page=hidden.page,
                    section=hidden.section,
                    detail=f"Texte caché contenant une consigne adressée à l’outil ({hits[0][2]}).",
                )
            )
    return findings


def warnings_for(dossier: Dossier) -> list[str]:
    """Dossier-level warnings in French, shown first in every output."""
    manip = [f for f in dossier.findings if f.kind == "manipulation"]
    hidden = [f for f in dossier.findings if f.kind == "hidden_text"]
    out: list[str] = []
    if manip or hidden:
        parts = []
        if manip:
            parts.append(f"{len(manip)} passage(s) semblant s’adresser à l’outil d’évaluation")
        if hidden:
            parts.append(f"{len(hidden)} texte(s) invisible(s) à la lecture")
        out.append(
            "ALERTE MANIPULATION : le dossier contient "
            + " et ".join(parts)
            + ". Ces passages sont exclus de l’analyse et n’influencent pas les notes suggérées ; "
            "à signaler au jury."
        )
    for f in dossier.findings:
        if f.kind in ("language", "damage", "no_text_pages", "ocr"):
            out.append(f"{f.detail} ({f.text})")
    return out
