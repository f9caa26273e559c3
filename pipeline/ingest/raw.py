"""What a format parser hands to the assembler: blocks before sections and spans are known."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.types import BlockKind, FindingKind


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
