"""Section-aware chunks: never across a top-level section, tables kept with their caption.

Text flagged as manipulation is cut out before chunking, so it can reach neither the index
nor a prompt nor a quote, and a dossier with injected text chunks exactly like the same
dossier without it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from pipeline.types import Block, BlockKind, Chunk, Dossier

_JOIN = "\n\n"


@dataclass
class _Piece:
    text: str
    start: int
    end: int
    kind: BlockKind
    page: int | None
    section: list[str]


def _clean_pieces(dossier: Dossier) -> list[_Piece]:
    """Blocks with manipulation spans removed (a block left empty disappears)."""
    spans = sorted(
        (f.start, f.end)
        for f in dossier.findings
        if f.kind == "manipulation" and f.start is not None and f.end is not None
    )
    pieces: list[_Piece] = []
    for b in dossier.blocks:
        text = _cut(b, spans)
        if text.strip():
            pieces.append(_Piece(text.strip(), b.start, b.end, b.kind, b.page, b.section))
    return pieces


def _cut(b: Block, spans: list[tuple[int, int]]) -> str:
    inside = [(max(s, b.start) - b.start, min(e, b.end) - b.start) for s, e in spans if s < b.end and e > b.start]
    if not inside:
        return b.text
    out, pos = [], 0
    for s, e in inside:
        out.append(b.text[pos:s])
        pos = max(pos, e)
    out.append(b.text[pos:])
    lines = [" ".join(x.split()) for x in "".join(out).split("\n")]
    # table rows that only held flagged text vanish with their separators
    return "\n".join(ln for ln in lines if ln.strip(" |"))


def _top(section: list[str], piece: _Piece) -> str:
    if section:
        return section[0]
    return piece.text if piece.kind == "heading" else ""


def chunk_dossier(dossier: Dossier, size: int = 900, overlap: int = 120) -> list[Chunk]:
    """Group blocks into chunks of about `size` characters within each top-level section."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=["\n", ". ", "; ", ", ", " ", ""], keep_separator="end"
    )
    chunks: list[Chunk] = []
    group: list[_Piece] = []

    def flush() -> None:
        if group and any(p.kind != "heading" for p in group):
            _emit(dossier, group, chunks)
        elif group and chunks and chunks[-1].section[:1] == _section_of(group)[:1]:
            pass  # a trailing heading with no body adds nothing
        elif group:
            _emit(dossier, group, chunks)
        group.clear()

    for piece in _clean_pieces(dossier):
        section = piece.section + ([piece.text] if piece.kind == "heading" else [])
        new_top = bool(group) and _top(section, piece) != _top(_section_of(group), group[0])
        length = sum(len(p.text) + len(_JOIN) for p in group)
        keep_with_prev = bool(group) and group[-1].kind in ("heading", "caption")
        if new_top or (group and length + len(piece.text) > size and not keep_with_prev):
            flush()
        if len(piece.text) > size * 1.5 and piece.kind != "heading":
            # a long block is split; the heading/caption held before it goes with its first part
            parts = splitter.split_text(piece.text)
            cursor = 0
            for part in parts:
                at = piece.text.find(part[:50], max(0, cursor - overlap - 5))
                at = at if at >= 0 else cursor
                cursor = at + len(part)
                group.append(
                    _Piece(part, piece.start + at, piece.start + at + len(part), piece.kind, piece.page, piece.section)
                )
                flush()
            continue
        group.append(piece)
    flush()
    return chunks


def _section_of(group: list[_Piece]) -> list[str]:
    first_body = next((p for p in group if p.kind != "heading"), None)
    headings = [p for p in group if p.kind == "heading"]
    if first_body is not None:
        return first_body.section
    return [*group[0].section, headings[0].text] if headings else group[0].section


def _emit(dossier: Dossier, group: list[_Piece], chunks: list[Chunk]) -> None:
    text = _JOIN.join(p.text for p in group)
    start, end = group[0].start, group[-1].end
    section = _section_of(group)
    pages = sorted({p.page for p in group if p.page is not None})
    digest = hashlib.sha256(f"{dossier.sha256}|{start}|{end}|{text}".encode()).hexdigest()[:16]
    kinds: list[BlockKind] = []
    for p in group:
        if p.kind not in kinds:
            kinds.append(p.kind)
    chunks.append(
        Chunk(
            id=f"ch-{digest}",
            dossier_sha256=dossier.sha256,
            index=len(chunks),
            text=text,
            section=section,
            pages=pages,
            start=start,
            end=end,
            kinds=kinds,
        )
    )
