"""Section-aware chunks: never across a top-level section, tables kept with their caption.

Text flagged as manipulation stays in the chunks, marked by `Chunk.flagged_spans`; grouping and
splitting are decided on the text without those spans (`Chunk.clean_text`, what the index, the
drafters and the quotes use), so a dossier with injected text chunks like the same dossier
without it, and a false alarm removes nothing from the text an assessor reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.manipulation import block_flagged_spans
from pipeline.types import Block, BlockKind, Chunk, Dossier, without_spans

if TYPE_CHECKING:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

_JOIN = "\n\n"


@dataclass
class _Piece:
    text: str
    start: int
    end: int
    block: Block  # the block the piece is (part of): its kind, section and pages
    spans: list[tuple[int, int]] = field(default_factory=list)  # flagged, relative to text

    @property
    def kind(self) -> BlockKind:
        return self.block.kind

    @property
    def section(self) -> list[str]:
        return self.block.section

    @property
    def clean(self) -> str:
        """What counts for grouping and splitting: the text without its flagged spans."""
        return without_spans(self.text, self.spans)[0] if self.spans else self.text


def _pieces(dossier: Dossier) -> list[_Piece]:
    """Blocks with the manipulation spans that fall inside them (a block is never cut)."""
    pieces: list[_Piece] = []
    for b in dossier.blocks:
        text = b.text.strip()
        if not text:
            continue
        lead = len(b.text) - len(b.text.lstrip())
        inside = [
            (max(s - lead, 0), min(e - lead, len(text)))
            for s, e in block_flagged_spans(dossier, b)
            if e - lead > 0 and s - lead < len(text)
        ]
        pieces.append(_Piece(text, b.start, b.end, b, inside))
    return pieces


def _top(section: list[str], piece: _Piece, depth: int) -> tuple[str, ...]:
    """The section a chunk never crosses: the path down to `depth` (0: the top-level heading)."""
    if section:
        return tuple(section[: depth + 1])
    return (piece.text,) if piece.kind == "heading" else ()


def _split_depth(dossier: Dossier) -> int:
    """1 when one heading holds the whole document (its title): its sections are the ones a chunk
    never crosses; 0 otherwise."""
    tops = {b.section[0] for b in dossier.blocks if b.section}
    return 1 if len(tops) == 1 and any(len(b.section) > 1 for b in dossier.blocks) else 0


def chunk_dossier(dossier: Dossier, size: int = 900, overlap: int = 120) -> list[Chunk]:
    """Group blocks into chunks of about `size` characters within each top-level section."""
    splitter: RecursiveCharacterTextSplitter | None = None  # made for the first long block (langchain loads then)
    chunks: list[Chunk] = []
    group: list[_Piece] = []
    depth = _split_depth(dossier)

    def body() -> list[_Piece]:
        """The pieces of the group that hold usable text (wholly flagged ones only ride along)."""
        return [p for p in group if p.clean]

    def flush() -> None:
        usable = body()
        if usable and any(p.kind != "heading" for p in usable):
            _emit(dossier, group, chunks)
        elif usable and chunks and chunks[-1].section[:1] == _section_of(usable)[:1]:
            # a trailing heading with no body adds nothing; flagged text after it stays in a chunk of its own
            if len(usable) < len(group):
                _emit(dossier, [p for p in group if not p.clean], chunks)
        elif group:
            _emit(dossier, group, chunks)
        group.clear()

    for piece in _pieces(dossier):
        clean = piece.clean
        if not clean:
            # wholly flagged: kept with its neighbours, weighs nothing in the grouping
            if group and _top(piece.section, piece, depth) != _top(
                _section_of(body() or group), (body() or group)[0], depth
            ):
                flush()
            group.append(piece)
            continue
        section = piece.section + ([clean] if piece.kind == "heading" else [])
        ref = body() or group
        new_top = bool(ref) and _top(section, piece, depth) != _top(_section_of(ref), ref[0], depth)
        length = sum(len(p.clean) + len(_JOIN) for p in body())
        usable = body()
        keep_with_prev = bool(usable) and usable[-1].kind in ("heading", "caption")
        titles_only = (
            bool(usable) and all(p.kind == "heading" for p in usable) and length < size
        )  # go with what follows
        if (new_top and not titles_only) or (usable and length + len(clean) > size and not keep_with_prev):
            flush()
        if len(clean) > size * 1.5 and piece.kind != "heading":
            # a long block is split; the heading/caption held before it goes with its first part
            if splitter is None:
                splitter = _splitter(size, overlap)
            for part in _split(piece, splitter.split_text(clean), overlap):
                group.append(part)
                flush()
            continue
        group.append(piece)
    flush()
    return chunks


def _splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=["\n", ". ", "; ", ", ", " ", ""], keep_separator="end"
    )


def _split(piece: _Piece, parts: list[str], overlap: int) -> list[_Piece]:
    """Pieces for the parts of a long block split on its clean text, mapped back to the block
    (flagged spans between two parts go with the earlier one)."""
    out: list[_Piece] = []
    if not piece.spans:
        cursor = 0
        for part in parts:
            at = piece.text.find(part[:50], max(0, cursor - overlap - 5))
            at = at if at >= 0 else cursor
            cursor = at + len(part)
            out.append(_Piece(part, piece.start + at, piece.start + at + len(part), piece.block))
        return out
    clean, index = without_spans(piece.text, piece.spans)
    cursor = 0
    for k, part in enumerate(parts):
        at = clean.find(part[:50], max(0, cursor - overlap - 5))
        at = at if at >= 0 else cursor
        end = min(len(clean), at + len(part))
        cursor = at + len(part)
        s = 0 if k == 0 else index[at]
        e = len(piece.text) if k == len(parts) - 1 or end >= len(clean) else index[end]
        text = piece.text[s:e].rstrip()
        spans = [(max(a, s) - s, min(b, s + len(text)) - s) for a, b in piece.spans if a < s + len(text) and b > s]
        out.append(_Piece(text, piece.start + s, piece.start + s + len(text), piece.block, spans))
    return out


def _section_of(group: list[_Piece]) -> list[str]:
    first_body = next((p for p in group if p.kind != "heading"), None)
    headings = [p for p in group if p.kind == "heading"]
    if first_body is not None:
        return first_body.section
    return [*group[0].section, headings[0].text] if headings else group[0].section


def _emit(dossier: Dossier, group: list[_Piece], chunks: list[Chunk]) -> None:
    text = _JOIN.join(p.text for p in group)
    spans: list[tuple[int, int]] = []
    pos = 0
    for p in group:
        spans.extend((pos + s, pos + e) for s, e in p.spans)
        pos += len(p.text) + len(_JOIN)
    usable = [p for p in group if p.clean] or group
    start, end = group[0].start, group[-1].end
    section = _section_of(usable)
    pages = sorted({n for p in group for n in p.block.pages_of(p.start, p.end)})
    digest = hashlib.sha256(f"{dossier.sha256}|{start}|{end}|{text}".encode()).hexdigest()[:16]
    kinds: list[BlockKind] = []
    for p in usable:
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
            flagged_spans=spans,
        )
    )
