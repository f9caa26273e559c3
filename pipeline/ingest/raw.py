"""What a format parser hands to the assembler: blocks before sections and spans are known."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.types import BlockKind, FindingKind

TOC_TITLE = re.compile(
    r"^(?:sommaire|table des mati[eè]res|plan du dossier|contents|table of contents"
    r"|liste des (?:tableaux|figures|illustrations|graphiques|schémas|annexes))\s*:?$",
    re.I,
)
# A numbered caption line ('Tableau 1 : Chiffres clés', 'Figure 3 – Parts de marché'): a caption in a
# DOCX without the Caption style as in a PDF, where nothing but its words tells it from the paragraph
# above it
CAPTION_LINE = re.compile(
    r"^(?:tableau|figure|graphique|illustration|schéma|diagramme|carte|photo|annexe)\s+[\dIVX]+(?:[.-]\d+)*"
    r"\s*[:.–—-]\s*\S",
    re.I,
)
CAPTION_MAX_CHARS = 200


def luminance(r: float, g: float, b: float) -> float:
    """Relative luminance of an RGB colour with components in 0..1 (1 = white)."""
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@dataclass
class RawBlock:
    kind: BlockKind
    text: str
    level: int | None = None
    page: int | None = None
    rows: list[list[str]] | None = None
    section_override: list[str] | None = None
    # offsets in `text` where the block runs onto the next page (page + 1, page + 2, …): a paragraph
    # or a table continued over a page break
    breaks: list[int] = field(default_factory=list)


@dataclass
class RawFinding:
    kind: FindingKind
    text: str
    page: int | None = None
    block_index: int | None = None
    detail: str = ""


@dataclass
class RawDoc:
    blocks: list[RawBlock]
    findings: list[RawFinding] = field(default_factory=list)
    pages: int | None = None
