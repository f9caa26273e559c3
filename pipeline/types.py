"""The project's vocabulary: what a dossier becomes at each stage of the pipeline."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

BlockKind = Literal["heading", "paragraph", "list_item", "table", "caption", "footnote", "textbox"]
FindingKind = Literal[
    "hidden_text",
    "manipulation",
    "language",
    "damage",
    "comment",
    "no_text_pages",
    "truncated",
    "ocr",
    "reviewer_markup",
    "encoding",
    "scanned_page",
]


def without_spans(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """`text` with `spans` removed, and for each character kept its offset in `text`.

    Removal leaves no debris: the spaces after a removed span when one already precedes it,
    a line left empty or holding only table separators, extra blank lines, leading and trailing
    whitespace. Text far from a span is kept byte for byte.
    """
    n = len(text)
    keep = [True] * n
    for s, e in spans:
        for i in range(max(0, s), min(n, e)):
            keep[i] = False
    touched: set[int] = set()  # line starts of lines that lost characters
    line_start = 0
    for i in range(n + 1):
        if i == n or text[i] == "\n":
            if not all(keep[line_start:i]):
                touched.add(line_start)
            line_start = i + 1
    line_start = 0
    for i in range(n + 1):
        if i == n or text[i] == "\n":
            if line_start in touched:
                kept = [text[j] for j in range(line_start, i) if keep[j]]
                if not "".join(kept).strip(" |"):
                    for j in range(line_start, min(i + 1, n)):
                        keep[j] = False  # the line and its newline
                else:
                    prev_space = True
                    for j in range(line_start, i):
                        if not keep[j]:
                            continue
                        if text[j] == " " and prev_space:
                            keep[j] = False
                        prev_space = text[j] == " "
            line_start = i + 1
    out = [i for i in range(n) if keep[i]]
    # no run of more than one blank line, no leading/trailing whitespace
    tidy: list[int] = []
    for i in out:
        if text[i] == "\n" and len(tidy) >= 2 and text[tidy[-1]] == "\n" and text[tidy[-2]] == "\n":
            continue
        tidy.append(i)
    while tidy and text[tidy[0]].isspace():
        tidy.pop(0)
    while tidy and text[tidy[-1]].isspace():
        tidy.pop()
    # a line end left with a trailing space
    final = [
        i for k, i in enumerate(tidy) if not (text[i] == " " and (k + 1 == len(tidy) or text[tidy[k + 1]] == "\n"))
    ]
    return "".join(text[i] for i in final), final


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Block(_Model):
    kind: BlockKind
    text: str = Field(description="Normalised text; for tables, rows rendered as 'a | b | c' lines.")
    page: int | None = Field(default=None, description="1-based page, when the format tells it.")
    section: list[str] = Field(default_factory=list, description="Headings above the block, outermost first.")
    level: int | None = Field(default=None, description="Heading level (1 = top) for headings.")
    rows: list[list[str]] | None = Field(default=None, description="Table cells, for tables.")
    start: int = Field(default=0, description="Offset of the block in Dossier.text.")
    end: int = Field(default=0, description="End offset (exclusive) in Dossier.text.")
    page_breaks: list[int] = Field(
        default_factory=list,
        description="Offsets in Dossier.text where the block runs onto the next page (a paragraph or a table "
        "continued over a page break): the text from the n-th one on is on page + n.",
    )

    def page_at(self, offset: int) -> int | None:
        """The page of the block's text at an offset of Dossier.text."""
        if self.page is None:
            return None
        return self.page + sum(1 for o in self.page_breaks if o <= offset)

    def pages_of(self, start: int, end: int) -> list[int]:
        """The pages the block's text between two offsets of Dossier.text lies on."""
        first, last = self.page_at(start), self.page_at(max(start, end - 1))
        return [] if first is None or last is None else list(range(first, last + 1))


class Finding(_Model):
    kind: FindingKind
    text: str = Field(description="The content concerned (hidden text, flagged passage) or a description.")
    page: int | None = None
    section: list[str] = Field(default_factory=list)
    detail: str = Field(default="", description="Why it was recorded, in French for the reader.")
    start: int | None = Field(default=None, description="Offset in Dossier.text when the text is visible there.")
    end: int | None = None


class Dossier(_Model):
    file: str
    format: Literal["pdf", "docx"]
    sha256: str
    pages: int | None = Field(
        default=None,
        description="Page count. DOCX: Word's own layout when it saved one (rendered page breaks), otherwise "
        "estimated from the page size, fonts, spacing, pictures, tables and explicit breaks.",
    )
    language: str | None = None
    text: str = Field(description="Normalised full text: the blocks joined by blank lines.")
    blocks: list[Block]
    findings: list[Finding] = Field(default_factory=list)


class Chunk(_Model):
    id: str = Field(description="Stable id: hash of dossier hash, section path and text.")
    dossier_sha256: str
    index: int
    text: str
    section: list[str]
    pages: list[int] = Field(default_factory=list)
    start: int
    end: int
    kinds: list[BlockKind] = Field(default_factory=list)
    flagged_spans: list[tuple[int, int]] = Field(
        default_factory=list,
        description="Spans of `text` (relative offsets) flagged as manipulation: kept for the reader, "
        "never embedded, indexed, sent to a model or quoted as evidence.",
    )

    @cached_property
    def clean_text(self) -> str:
        """The text drafts and marks may rely on: `text` without its flagged spans (and without
        the blank line or table row they leave). Retrieval, drafting and features use this."""
        return without_spans(self.text, self.flagged_spans)[0] if self.flagged_spans else self.text

    @property
    def flagged(self) -> bool:
        """Wholly flagged: nothing usable is left once flagged spans are removed (never evidence)."""
        return bool(self.flagged_spans) and not self.clean_text

    def usable(self) -> Chunk:
        """The chunk as retrieval hands it to drafters: its clean text only, no flagged span.

        Same id: quotes are grounded against the full chunk, where flagged spans are blocked.
        """
        if not self.flagged_spans:
            return self
        return self.model_copy(update={"text": self.clean_text, "flagged_spans": []})

    def overlaps_flagged(self, start: int, end: int) -> bool:
        """Whether `text[start:end]` touches a flagged span."""
        return any(s < end and start < e for s, e in self.flagged_spans)

    @property
    def section_label(self) -> str:
        return " > ".join(self.section) if self.section else "(début du document)"

    @property
    def page_label(self) -> str:
        if not self.pages:
            return ""
        return f"p. {self.pages[0]}" if len(self.pages) == 1 else f"p. {self.pages[0]}-{self.pages[-1]}"


class Hit(_Model):
    chunk: Chunk
    rank: int
    dense_score: float | None = None
    lexical_score: float | None = None
    fused_score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    matched_terms: list[str] = Field(default_factory=list)


class Evidence(_Model):
    chunk_id: str
    quote: str = Field(description="Verbatim text as found in the dossier (the source's own characters).")
    page: int | None = None
    section: str = ""
    why: str = Field(default="", description="One line on why it supports the criterion, in French.")
    start: int | None = Field(default=None, description="Offset of the quote in Dossier.text.")
    end: int | None = None
    match: Literal["exact", "fuzzy"] = "exact"
    match_ratio: float = 1.0
    to_verify: bool = Field(
        default=False,
        description="The quote comes from a passage whose characters may not be what the page shows (glyphs "
        "without a usable Unicode map, a text layer made by OCR): shown as « à vérifier sur le document ».",
    )


class Provenance(_Model):
    backend: str
    model: str | None = None
    prompt_hash: str | None = None
    chunk_ids: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cached: bool = False
    raw_response: str | None = None


DraftStatus = Literal["suggested", "à revoir"]
GapKind = Literal["no_evidence", "vocabulary", "figures", "dates", "sources", "methods", "other"]


class GapMention(_Model):
    page: int | None = None
    section: str = ""


class Gap(_Model):
    """One thing the criterion expects that the draft did not find, typed so that advice never
    has to parse a French sentence."""

    text: str = Field(description="The gap as shown to the assessor, in French.")
    kind: GapKind = Field(description="What is missing: drives the advice given to the candidate.")
    terms: list[str] = Field(default_factory=list, description="The expected terms or notions concerned.")
    mentioned: list[GapMention] = Field(
        default_factory=list, description="Where the dossier mentions it without developing it (empty: nowhere)."
    )


class CriterionDraft(_Model):
    criterion_id: str
    level: int | None = Field(description="Suggested level; None when the draft must be reviewed by hand.")
    confidence: float = Field(ge=0, le=1)
    rationale: str
    present: list[str] = Field(default_factory=list, description="What the dossier does address, in French.")
    missing: list[str] = Field(default_factory=list, description="What is missing, concrete, in French.")
    gaps: list[Gap] = Field(default_factory=list, description="`missing`, typed: one Gap per item, same order.")
    evidence: list[Evidence] = Field(default_factory=list)
    status: DraftStatus = "suggested"
    flags: list[str] = Field(default_factory=list)
    dropped_quotes: int = Field(default=0, description="Quotes dropped by grounding.")
    provenance: Provenance


class CompetencyVerdict(_Model):
    id: str
    verdict: Literal["acquise", "non acquise", "à vérifier"]
    levels: dict[str, int | None] = Field(default_factory=dict)


class RunProvenance(_Model):
    """Everything that led to a review, recorded with the run (STYLE 13)."""

    backend: str
    model: str | None = Field(default=None, description="The drafting model, when a generative model was used.")
    embedder: str = ""
    referentiel_hash: str = Field(default="", description="Hash of the referentiel snapshot the run was made with.")
    level_model: str | None = Field(
        default=None, description="Offline level model used (id and hash), None in evidence-only mode."
    )
    settings: dict[str, JsonValue] = Field(default_factory=dict, description="Settings, secrets excluded.")
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per step.")
    chunks: int = 0
    embedded_passages: int = 0
    pages: int | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    dropped_quotes: int = 0
    estimated_cost: float = 0.0
    cached_answers: int = 0
    prompt_hashes: list[str] = Field(default_factory=list)


class Review(_Model):
    run_id: str
    file: str
    dossier_sha256: str
    module: str
    referentiel: str = Field(description="`id@version` of the referentiel the run was made with.")
    created_at: str
    warnings: list[str] = Field(default_factory=list, description="Dossier-level warnings, shown first.")
    findings: list[Finding] = Field(default_factory=list)
    criteria: list[CriterionDraft]
    competencies: list[CompetencyVerdict]
    provenance: RunProvenance

    def draft(self, criterion_id: str) -> CriterionDraft | None:
        return next((d for d in self.criteria if d.criterion_id == criterion_id), None)
