"""What a format parser hands to the assembler: blocks before sections and spans are known."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.types import BlockKind, FindingKind

TOC_TITLE = re.compile(r"^(?:sommaire|table des mati[eè]res|plan du dossier|contents|table of contents)\s*:?$", re.I)


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
