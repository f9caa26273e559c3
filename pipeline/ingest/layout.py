"""Lines of a PDF page → blocks: reviewer markup, running furniture, headings, paragraphs, tables.

Pure layout work on what `pdf.py` read (text runs with position, size, weight, visibility);
no PDF library here. Reading order is the content-stream order the engine reports.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

from pipeline.ingest.lexicon import is_word, join_hyphenated
from pipeline.ingest.raw import CAPTION_LINE, CAPTION_MAX_CHARS, TOC_TITLE, RawBlock
from pipeline.textnorm import fold, normalise
from pipeline.types import BlockKind

_BULLET_CHARS = "•▪◦●○■□➢➤►▶✓✔❖◆◇→–—*·-"
_BULLET = re.compile(rf"^\s*(?:[{_BULLET_CHARS}]|[\ue000-\uf8ff])\s*")
_NUMBERED_ITEM = re.compile(r"^\s*(?:\d{1,2}|[a-z])[.)](?=\s*[A-Za-zÀ-ÿ«\"])\s*")
_NUMBERED_HEADING = re.compile(
    r"^(?:(?:partie|chapitre|annexe)\s+)?(\d{1,2}(?:\.\d{1,2}){0,3}|[IVX]{1,4})\.?\s+\S", re.I
)
_ROMAN_HEADING = re.compile(r"[IVX]{1,4}[.)] +[A-ZÀ-Ý]")
_LETTERED = re.compile(r"[a-h][.)] +[A-ZÀ-Ý]")  # a lettered title: 'b. Forces de Porter'
_ENUMERATOR = re.compile(r"^(?:[A-Z]|[IVX]{1,4}|\d{1,2})\s?[.)–-]\s")  # "A. ", "II) ", "3 - ": a new heading
_CAPTION = re.compile(r"^(?:tableau|table|figure|graphique|illustration|schéma|source|annexe)\s*\d*\s*[:.–—-]", re.I)
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|sur|of)\s*\d{1,4})?$", re.I)
_MONTH = (
    r"(?:janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
    r"|january|february|march|april|may|june|july|august|september|october|november|december"
    r"|janv|févr|fevr|avr|juil|sept|oct|nov|déc|dec|jan|feb|mar|apr|jun|jul|aug|sep)\.?"
)
# A line that is only a date ('August 19, 2022', '19 février 2016', '19/02/2016', 'Mars 2024'): a title
# page's date, never a heading.
_DATE_LINE = re.compile(
    rf"^(?:(?:le\s+)?(?:\d{{1,2}}(?:er)?\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?\d{{4}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}})$",
    re.I,
)
# Lines set apart without a gap (title pages, cover slides, `_hard_break`): centred lines have both
# margins at least this share of the page width, equal within this share; a character is about
# half an em wide on average in the fonts of our corpora
CENTRED_MIN_MARGIN = 0.1
CENTRED_TOLERANCE = 0.04
AVERAGE_CHAR_EM = 0.5
CAPITAL_EM = 0.7
HARD_BREAK_MIN_CHARS = 4
MARGIN_TOLERANCE_PT = 3.0  # lines starting this close to the body's left edge are in the body column
_CELL_MARGINS_PT = 10.8  # left + right margin of a Word table cell (0.19 cm each)
_TOC_LEADER = re.compile(r"(?:[.…]{3,}|…{2,}|\s{2,})\s*\d{1,3}$")
# a page number: figures, front-matter roman numerals, '- 8 -'
_FOLIO = r"(?:-\s?)?(?:\d{1,3}|[ivx]{1,6}|[IVX]{2,6})(?:\s?-)?"
# a contents entry's page number after a leader (dots, spaced dots as LaTeX draws them), or in a cell of its own
_TOC_DOTS = re.compile(rf"(?:(?:[.…]\s?){{3,}}|…{{2,}})\s*\|?\s*{_FOLIO}$")  # dots, ellipses, or both
_TOC_CELL = re.compile(rf"^[^|]+\s\|\s*{_FOLIO}$")
_ROMAN_FOLIO = re.compile(r"^(?:[ivx]{1,6}|[IVX]{2,6})$")
_TOC_COLUMN = re.compile(r"^(?:pages?|p\.)$", re.I)  # the heading of the page-number column
_TRAILING_NUMBER = re.compile(rf"[\s.…|]+{_FOLIO}$")
# Word's printed comment balloons and tracked-change margins ("Commenté [PR1]: ...", "Mis en forme : ...").
_MARKUP_START = re.compile(
    r"^(?:Comment(?:é|ed|aire)\s*\[[^\]]{1,24}\]\s*:"
    r"|(?:Mis en forme|Supprimé|Inséré|Déplacé(?: \(insertion\)| \(suppression\))?|Formatted|Deleted|Inserted|Moved"
    r"(?: \(insertion\)| \(deletion\))?)\s*(?:\[[^\]]{1,24}\])?\s*:)",
)


@dataclass
class Frag:
    """A run of characters on one line: same visibility, no cell-sized gap inside."""

    text: str
    x0: float
    x1: float
    y: float
    size: float
    bold: bool
    hidden: str | None = None
    cell: bool = False  # starts a new table cell (set by the reader from text-object boundaries)


@dataclass
class Line:
    frags: list[Frag] = field(default_factory=list)
    heading_level: int | None = None  # set when the PDF outline names this line

    @property
    def visible(self) -> list[Frag]:
        return [f for f in self.frags if not f.hidden and f.text.strip()]

    @cached_property
    def text(self) -> str:
        """Visible text, cells separated by ' | ' (computed once: fragments are final when it is read)."""
        out = ""
        prev: Frag | None = None
        for f in self.visible:
            if prev is not None:
                if _cell_gap(prev, f):
                    out = out.rstrip() + " | "
                elif not out.endswith(" ") and not f.text.startswith(" ") and f.x0 > prev.x1 + 0.15 * f.size:
                    out += " "
            out += f.text
            prev = f
        return normalise(out)

    @property
    def is_row(self) -> bool:
        return any(_cell_gap(a, b) for a, b in itertools.pairwise(self.visible))

    @property
    def y(self) -> float:
        vis = self.visible
        return vis[0].y if vis else 0.0

    @property
    def x0(self) -> float:
        vis = self.visible
        return vis[0].x0 if vis else 0.0

    @property
    def size(self) -> float:
        return max((f.size for f in self.visible), default=0.0)

    @property
    def bold(self) -> bool:
        vis = self.visible
        chars = sum(len(f.text.strip()) for f in vis) or 1
        return sum(len(f.text.strip()) for f in vis if f.bold) / chars > 0.6


Rule = tuple[float, float, float, float]  # a thin stroke drawn on a page: (left, bottom, right, top)
Grid = tuple[list[float], list[float]]  # a table drawn with borders: its column and row borders


@dataclass
class Page:
    lines: list[Line]
    width: float = 595.0
    height: float = 842.0
    bottom: float = 0.0  # y of the page's lower edge in the coordinates of the lines
    rules: list[Rule] = field(default_factory=list)  # thin strokes drawn


# strokes this close (points) are one border; a text line's centre this far inside a cell is in it
_RULE_SNAP = 1.5


def _snap(values: list[float]) -> list[float]:
    """Positions within _RULE_SNAP of each other, as one (their mean), ascending."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= _RULE_SNAP:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _grids(rules: list[Rule]) -> list[Grid]:
    """Tables drawn with borders: groups of touching horizontal and vertical strokes, as the x of
    their column borders and the y of their row borders (ascending); only grids of two columns or
    more (a frame around a paragraph is no table)."""
    horizontal = [r for r in rules if r[3] - r[1] <= r[2] - r[0]]
    vertical = [r for r in rules if r[3] - r[1] > r[2] - r[0]]
    segments = horizontal + vertical
    parent = list(range(len(segments)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def touch(a: Rule, b: Rule) -> bool:
        s = _RULE_SNAP
        return a[0] - s <= b[2] and b[0] - s <= a[2] and a[1] - s <= b[3] and b[1] - s <= a[3]

    order = sorted(range(len(segments)), key=lambda i: segments[i][0])
    for n, i in enumerate(order):  # sweep by left edge: only segments starting before i's right edge touch it
        for j in order[n + 1 :]:
            if segments[j][0] - _RULE_SNAP > segments[i][2]:
                break
            if touch(segments[i], segments[j]):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(segments)):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        xs = _snap([(segments[i][0] + segments[i][2]) / 2 for i in members if i >= len(horizontal)])
        ys = _snap([(segments[i][1] + segments[i][3]) / 2 for i in members if i < len(horizontal)])
        if len(xs) >= 3 and len(ys) >= 2:
            out.append((xs, ys))
    return out


def _token_cut(a: Frag, b: str, width: float) -> bool:
    """A figure, identifier or acronym too wide for its narrow cell, cut where the cell ends
    (« 20000 » / « 00.0 », « 00:00: » / « 00 », « Opex_ » / « RnD », « EBITD » / « A »): the line
    fills the cell, and its last token and the next line's first are a number's two pieces, a
    time's, an underscore's two sides or capitals."""
    words = a.text.split()
    if not words or not b or a.x1 - a.x0 < 0.8 * (width - 2 * _CELL_MARGINS_PT):
        return False
    token, after = words[-1], b.split()[0]
    if _THOUSANDS.fullmatch(after) and token.isdigit() and len(token) <= 3:
        return False  # « 9 » / « 000 abonnés »: a figure grouped by thousands, its space kept
    if _DIGITS.fullmatch(token) and _DIGITS.match(after):
        return True
    if _TIME_CUT.fullmatch(token) and after[0].isdigit():
        return True
    return len(words) == 1 and (token.endswith("_") or (token.isupper() and after.isupper()))


_DIGITS = re.compile(r"[\d.,]+")
_THOUSANDS = re.compile(r"\d{3}(?:[.,]\d+)?")
_TIME_CUT = re.compile(r"\d{1,2}(?::\d{2})*:")
_INSIDE_FIGURE = re.compile(r"\d (?:\d{3}(?!\d)|[€%$£])")


def _crosses(f: Frag, xs: list[float]) -> list[float]:
    """The column borders a run of text is drawn across."""
    return [x for x in xs if f.x0 + _RULE_SNAP < x < f.x1 - _RULE_SNAP]


def _split_at_borders(f: Frag, xs: list[float]) -> list[Frag]:
    """A run of text drawn across a column border (two cells set closer than a cell gap, « 8
    septembre 2025 » and « 19 décembre », « — » and « 65 000 € »): cut at a space where the text
    before it ends left of the border and the text after it starts right of it, each measured from
    its own end of the run in the font's size (the space that is the gap between the cells is
    wider than any estimate)."""
    text = f.text
    inside = _crosses(f, xs)
    if not inside or len(text) < 2:
        return [f]
    border, em = inside[0], max(f.size, 1.0)
    widths = [_glyph_width(c) * em for c in text]
    tol = 0.5 * em
    for m in re.finditer(" ", text):
        cut = m.start()
        if _INSIDE_FIGURE.match(text, max(cut - 1, 0)):
            continue  # never inside a figure: « 65 000 € », « 12 % »
        left_end, right_start = f.x0 + sum(widths[:cut]), f.x1 - sum(widths[cut + 1 :])
        if left_end <= border + tol and right_start >= border - tol:
            left = Frag(text[:cut], f.x0, min(left_end, border), f.y, f.size, f.bold, f.hidden, f.cell)
            right = Frag(text[cut + 1 :], max(right_start, border), f.x1, f.y, f.size, f.bold, f.hidden, True)
            return [left, *_split_at_borders(right, xs)]
    return [f]


def _glyph_width(c: str) -> float:
    """A character's advance in a proportional sans-serif, in ems (Helvetica's, by kind)."""
    if c == " ":
        return 0.28
    if c.isupper() or c in "mwMW%@":
        return 0.72
    if c.isdigit():
        return 0.56
    if c in "il.,:;'’!|()[]fjtr":
        return 0.3
    return 0.52


def ruled_rows(lines: list[Line], page_grids: list[Grid], vocab: set[str]) -> list[Line]:
    """Rows of a table drawn with borders, read cell by cell: the lines between two row borders
    become one row whose cells are the text between two column borders, top to bottom. Word draws a
    cell's wrapped lines one cell after another, centred, and vertically centred cells sit on other
    baselines than their row: read line by line they were a row's first line and orphan pieces
    (« Habitudes de consommation | Publics sensibles au » / « développement moteur et »). A row
    drawn on one line, no text run across a column border, is left as it is; a grid of one row is
    a row drawn on one line."""
    grids = [(xs, ys) for xs, ys in page_grids if len(ys) >= 3]
    if not grids:
        return lines
    members: dict[int, tuple[int, int]] = {}  # line index -> (grid, row)
    for i, ln in enumerate(lines):
        vis = ln.visible
        if not vis:
            continue
        mid_y = ln.y + 0.3 * ln.size
        for g, (xs, ys) in enumerate(grids):
            if xs[0] < vis[0].x0 and vis[-1].x1 < xs[-1] and ys[0] < mid_y < ys[-1]:
                members[i] = (g, bisect.bisect(ys, mid_y))
                break
    rows: dict[tuple[int, int], list[int]] = {}
    for i, key in members.items():
        rows.setdefault(key, []).append(i)
    replace: dict[int, Line | None] = {}
    for (g, _), idx in rows.items():
        xs = grids[g][0]
        if len(idx) < 2 and not any(_crosses(f, xs) for f in lines[idx[0]].visible):
            continue  # a row drawn on one line, no text across a border: as it is
        cells: dict[int, list[Frag]] = {}
        for i in idx:
            for f in (piece for frag in lines[i].visible for piece in _split_at_borders(frag, xs)):
                cells.setdefault(bisect.bisect(xs, (f.x0 + f.x1) / 2), []).append(f)
        frags: list[Frag] = []
        for k in sorted(cells):
            parts = sorted(cells[k], key=lambda f: (-round(f.y), f.x0))
            width = (xs[k] if k < len(xs) else parts[0].x1) - (xs[k - 1] if k > 0 else parts[0].x0)
            text = parts[0].text.strip()
            for a, b in itertools.pairwise(parts):
                piece = b.text.strip()
                if abs(a.y - b.y) < 1.0:
                    text = f"{text} {piece}"
                elif _token_cut(a, piece, width):
                    text += piece
                else:
                    text = join_lines(text, piece, vocab)
            top = max(parts, key=lambda f: f.y)
            frags.append(
                Frag(
                    text,
                    min(f.x0 for f in parts),
                    max(f.x1 for f in parts),
                    top.y,
                    max(f.size for f in parts),
                    all(f.bold for f in parts),
                    cell=bool(frags),
                )
            )
        first = min(idx)
        replace.update(dict.fromkeys(idx))
        replace[first] = Line(frags=frags, heading_level=None)
    if not replace:
        return lines
    kept = (replace.get(i, ln) for i, ln in enumerate(lines))
    return [ln for ln in kept if ln is not None]


def _cell_gap(a: Frag, b: Frag) -> bool:
    """True when b starts far to the right of where a ends on the same baseline: a new table cell."""
    if b.cell:
        return True
    if abs(a.y - b.y) > max(a.size, 1.0) * 0.6:
        return False
    return b.x0 > a.x1 + 2.0 * max(a.size, 1.0)


def assemble_rows(lines: list[Line], vocab: set[str]) -> list[Line]:
    """Table rows whose cells wrap: cells are drawn one after the other (each going down, then back up
    to the row's top for the next cell); gather each row into one line whose fragments are its cells."""
    units: list[Frag] = []
    keep: dict[int, tuple[Line, int]] = {}  # first unit of each line -> (line, its number of units)
    for ln in lines:
        vis = ln.visible
        first = len(units)
        if ln.heading_level is not None or not vis:
            keep[first] = (ln, 1)  # a barrier: headings never join a row, and stay as they are
            units.append(Frag("\0", 0, 0, 0, 0, False))
            continue
        start = 0
        for k in range(1, len(vis) + 1):
            if k == len(vis) or _cell_gap(vis[k - 1], vis[k]):
                part = vis[start:k]
                text = Line(frags=list(part)).text
                units.append(
                    Frag(
                        text,
                        part[0].x0,
                        part[-1].x1,
                        part[0].y,
                        max(f.size for f in part),
                        sum(f.bold for f in part) * 2 > len(part),
                    )
                )
                start = k
        keep[first] = (ln, len(units) - first)
    out: list[Line] = []
    i = 0
    while i < len(units):
        cells = _row_at(units, i)
        if cells is None:
            if i in keep:  # not a wrapped row: the line as it was read
                line, n_units = keep[i]
                out.append(line)
                i += n_units
            else:
                out.append(_unit_line(units[i]))
                i += 1
            continue
        ends = _column_ends(cells)
        frags = [
            Frag(
                _join_cell_lines(
                    [u.text for u in cell],
                    [_room(u, end) for u in cell] if (end := ends[k]) is not None else None,
                    vocab,
                ),
                cell[0].x0,
                max(u.x1 for u in cell),
                cells[0][0].y,
                max(u.size for u in cell),
                all(u.bold for u in cell),
                cell=k > 0,
            )
            for k, cell in enumerate(cells)
        ]
        out.append(Line(frags=frags))
        i += sum(len(c) for c in cells)
    return out


def _column_ends(cells: list[list[Frag]]) -> list[float | None]:
    """Where each cell's column ends: where the next column's text starts; for the last column, one
    column pitch further when the columns are evenly spaced (a generated table of equal columns),
    else unknown."""
    starts = [c[0].x0 for c in cells]
    ends: list[float | None] = [*starts[1:], None]
    pitches = [b - a for a, b in itertools.pairwise(starts)]
    if len(pitches) >= 2 and max(pitches) - min(pitches) <= 1.5:
        ends[-1] = starts[-1] + sum(pitches) / len(pitches)
    return ends


def _room(u: Frag, next_cell_x0: float) -> float:
    """What a cell's line leaves free before the next column's text, in ems, cell margins (Word's
    default, 0.19 cm each side) deducted."""
    return (next_cell_x0 - u.x1 - _CELL_MARGINS_PT) / max(u.size, 1.0)


# A token cut at the cell's edge leaves less than about a third of a character free; a line broken
# at a space usually more ('2023-01-01' before '00:00:00': 5 pt). A figure's digits are wider, so a
# figure cut at the edge may leave up to one digit's width: cut there only when the whole is a figure.
_FULL_EM = 0.35
_FULL_EM_FIGURE = 0.62
_FIGURE_SHAPE = re.compile(r"-?\d+(?:[.,]\d+)?%?")


def _cut_token(left: str, right: str) -> bool:
    """The two pieces read as one token cut in two: figures on both sides ('20000' + '00.0'), or
    letters on both sides that are not two words ('Opex_' + 'RnD', not 'Marge' + 'brute')."""
    if re.search(r"[\d.,:]$", left) and re.match(r"[\d.,:]", right):
        return True
    a, b = re.search(r"[^\W\d]+$", left), re.match(r"[^\W\d]+", right)
    return bool(a and b and not (is_word(a.group(0)) and is_word(b.group(0))))


def _cut_at_edge(left: str, right: str, room: float) -> bool:
    """A token that filled its line up to the next column, continued on the next line."""
    if room <= _FULL_EM:
        return _cut_token(left, right)
    if room > _FULL_EM_FIGURE or not (re.search(r"\d$", left) and re.match(r"\d", right)):
        return False
    a, b = re.search(r"\S+$", left), re.match(r"\S+", right)
    return bool(a and b and _FIGURE_SHAPE.fullmatch(a.group(0) + b.group(0)))


def _join_cell_lines(parts: list[str], room: list[float] | None = None, vocab: set[str] | None = None) -> str:
    """Lines of one table cell; a word cut at the cell's edge without a hyphen ('prestatair' + 'e')
    is joined back when the whole is a French word and the cut piece is not, and so is a token
    that filled its line up to the next column when what follows does not (`room`: what each line
    leaves free before the next column, in ems; '20000' + '00.0', 'Opex_' + 'RnD' in a financial
    table squeezed into narrow columns)."""
    out = parts[0] if parts else ""
    for n, part in enumerate(parts[1:]):
        if re.search(r"\w-$", out) or cut_word(out, part, vocab or set()):
            out = join_lines(out, part, vocab or set())  # a hyphenated or edge cut: joined when a word
        elif (
            room is not None
            and " " not in parts[n].strip()  # one token running to the column's edge: it was cut
            # lines as wide as the column one after the other are values, one per line ('E/SIG')
            and room[n + 1] > _FULL_EM
            and (n == 0 or room[n - 1] > _FULL_EM)
            and _cut_at_edge(out, part, room[n])
        ):
            out += part
        else:
            out = f"{out} {part}"
    return out


def _unit_line(u: Frag) -> Line:
    parts = u.text.split(" | ")
    if len(parts) == 1:
        return Line(frags=[u])
    return Line(frags=[Frag(t, u.x0, u.x1, u.y, u.size, u.bold, cell=k > 0) for k, t in enumerate(parts)])


def _same_column(u: Frag, first: Frag) -> bool:
    """`u` continues the cell whose first line is `first`: aligned on its left edge, or on its
    centre (a centred cell's lines start at different places: 'Expertise créative, proximité' /
    'client, taille humaine')."""
    return abs(u.x0 - first.x0) < 4 or abs((u.x0 + u.x1) - (first.x0 + first.x1)) < 6


def _row_at(units: list[Frag], i: int) -> list[list[Frag]] | None:
    """The cells of a row starting at units[i], when at least one of them wraps over several lines."""
    top = units[i]
    if top.text == "\0":
        return None
    cells: list[list[Frag]] = [[top]]
    j = i + 1
    while j < len(units):
        u = units[j]
        cell = cells[-1]
        last = cell[-1]
        if u.text == "\0":
            break
        if _same_column(u, cell[0]) and 0 < last.y - u.y < 2.0 * max(last.size, 1.0) and len(cell) < 6:
            cell.append(u)
        elif abs(u.y - top.y) < 2 and u.x0 > cell[0].x0 + 8:
            cells.append([u])
        else:
            break
        j += 1
    if len(cells) < 2 or all(len(c) == 1 for c in cells):
        return None
    return cells


# --- reviewer markup -----------------------------------------------------------------------------


def split_reviewer_markup(pages: list[Page]) -> list[tuple[int, str]]:
    """Remove printed comment balloons / change margins; return (page, text) of each balloon."""
    found: list[tuple[int, str]] = []
    for page_no, page in enumerate(pages, 1):
        starts = [ln for ln in page.lines if _MARKUP_START.match(ln.text)]
        if not starts:
            continue
        zone = min(ln.x0 for ln in starts) - 3.0
        margin = zone > page.width * 0.45
        keep: list[Line] = []
        current: list[str] | None = None
        for ln in page.lines:
            text = ln.text
            in_margin = margin and ln.x0 >= zone
            if _MARKUP_START.match(text) and (in_margin or text.lower().startswith("comment")):
                current = [text]
                found.append((page_no, text))
                continue
            if in_margin and current is not None:
                found[-1] = (page_no, f"{found[-1][1]} {text}")
                continue
            current = None
            keep.append(ln)
        page.lines = keep
    return found


# --- page furniture ------------------------------------------------------------------------------


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def _row_key(lines: list[Line], j: int) -> str:
    """Furniture key; a row inside a table keeps its figures ('Action 13' is not 'Action 1')."""
    ln = lines[j]
    in_table = ln.is_row and any(0 <= k < len(lines) and lines[k].is_row for k in (j - 1, j + 1))
    return ln.text.lower().strip() if in_table else _furniture_key(ln.text)


def _is_page_number(text: str, n_pages: int) -> bool:
    """'12', 'Page 12', '12 / 40', 'iv' — but not a year or a figure standing alone on a title page."""
    if _ROMAN_FOLIO.match(text):
        return True
    if not _PAGE_NUMBER.match(text):
        return False
    first = int(re.findall(r"\d+", text)[0])
    return first <= n_pages + 5


def drop_furniture(pages: list[Page], zone: int = 3) -> None:
    """Remove running headers/footers and page numbers: lines repeated in the page margins.

    A running line repeats at the same place in the same size: a line is furniture when its text
    (figures aside) comes back among the first or last lines of enough pages, at the same distance
    from the same page edge. A heading that a contents page also lists stands there elsewhere and
    in another size: it stays. A repeated table header row (a row followed by more rows) is kept
    once: it is content.
    """
    spots: dict[str, list[tuple[int, _Spot]]] = {}
    for pi, p in enumerate(pages):
        for j in _edge_indexes(p.lines, zone):
            spots.setdefault(_row_key(p.lines, j), []).append((pi, _spot(p, p.lines[j])))
    n = sum(1 for p in pages if p.lines)
    need = max(2, 0.4 * n)
    kept_headers: set[str] = set()
    dropped: list[set[str]] = []  # keys of the running lines removed from each page
    emptied: list[tuple[Page, list[Line]]] = []
    for p in pages:
        lines = p.lines
        edge = set(_edge_indexes(lines, zone))
        keep: list[Line] = []
        gone: set[str] = set()
        for j, ln in enumerate(lines):
            key = _row_key(lines, j)
            repeated = j in edge and n >= 3 and _pages_alike(spots.get(key, []), _spot(p, ln)) >= need
            if repeated and re.search(r"[^\W\d_]", ln.text):  # a bare number: see below
                nxt = lines[j + 1] if j + 1 < len(lines) else None
                if ln.is_row and nxt is not None and nxt.is_row and key not in kept_headers:
                    kept_headers.add(key)  # a table header repeated on each page: kept once
                    keep.append(ln)
                else:
                    gone.add(key)
                continue
            if j in edge and _is_page_number(ln.text, len(pages)):
                continue
            keep.append(ln)
        if keep or not lines:
            p.lines = keep
            dropped.append(gone)
        else:
            emptied.append((p, lines))
    # A page whose every line repeats elsewhere is content, not furniture, unless its lines are
    # the running lines of pages that have content (a blank page with its header and number).
    running = set().union(*dropped)
    for p, lines in emptied:
        if all(_row_key(lines, j) in running or _is_page_number(ln.text, len(pages)) for j, ln in enumerate(lines)):
            p.lines = []


_Spot = tuple[bool, float, float]  # (nearer the top edge, distance from that edge, font size)


def _edge_indexes(lines: list[Line], zone: int) -> list[int]:
    return [*range(min(zone, len(lines))), *range(max(len(lines) - zone, zone), len(lines))]


def _spot(page: Page, ln: Line) -> _Spot:
    """Where a line stands: the page edge it is nearer, its distance from that edge, its size."""
    up = page.bottom + page.height - ln.y
    down = ln.y - page.bottom
    return (up <= down, min(up, down), ln.size)


def _pages_alike(spots: list[tuple[int, _Spot]], at: _Spot) -> int:
    """Pages on which the same text stands at the same place in the same size as `at`."""
    top, dist, size = at
    tolerance = max(3.0, 0.6 * size)
    return len(
        {
            pi
            for pi, (t, d, s) in spots
            if t == top and abs(d - dist) <= tolerance and abs(s - size) <= max(1.0, 0.15 * size)
        }
    )


# --- headings -----------------------------------------------------------------------------------


def apply_outline(pages: list[Page], outline: list[tuple[str, int, int | None]]) -> bool:
    """Mark the lines that the PDF outline (bookmarks) names as headings; True when it fits the text.

    An entry matches a line (or consecutive lines, for a wrapped title) on its page, or on the
    next pages when the destination is off by one.
    """
    if len(outline) < 2:
        return False
    matched = 0
    for title, level, page_idx in outline:
        key = _key(title)
        if not key:
            continue
        start = page_idx if page_idx is not None else 0
        candidates = range(start, min(start + 2, len(pages))) if page_idx is not None else range(len(pages))
        if _match_title(pages, candidates, key, level):
            matched += 1
    return matched >= max(2, 0.5 * len(outline))


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold(normalise(text)))


def _match_title(pages: list[Page], candidates: range, key: str, level: int) -> bool:
    for pi in candidates:
        lines = pages[pi].lines
        for j, ln in enumerate(lines):
            if ln.heading_level is not None:
                continue
            k = _key(ln.text)
            if not k or not key.startswith(k):
                continue
            if k == key:
                ln.heading_level = level
                return True
            acc, group = k, [ln]
            for nxt in lines[j + 1 : j + 4]:
                acc += _key(nxt.text)
                group.append(nxt)
                if acc == key:
                    for g in group:
                        g.heading_level = level
                    return True
                if not key.startswith(acc):
                    break
    return False


def _size_volumes(pages: list[Page]) -> Counter[float]:
    """Characters set in each font size, table rows aside (a table-heavy document has small cells)."""
    sizes: Counter[float] = Counter()
    for p in pages:
        for ln in p.lines:
            if not ln.is_row:
                sizes[round(ln.size, 1)] += len(ln.text)
    return sizes


def _body_size(pages: list[Page]) -> float:
    sizes = _size_volumes(pages)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _heading_levels(pages: list[Page], body: float) -> dict[float, int]:
    """Map heading font sizes to levels, learning from numbered headings ("2.3 ...") where there are some.

    A size that carries more than a seventh of the text is running text (a second body size), not a heading.
    """
    volumes = _size_volumes(pages)
    total = sum(volumes.values()) or 1
    sizes = sorted(
        {
            round(ln.size, 1)
            for p in pages
            for ln in p.lines
            if (ln.size >= body * 1.15 or (ln.size >= body * 1.05 and ln.bold))
            and len(ln.text) < 150
            and not _CALLOUT.match(ln.text)  # a figure set large ('96%', '02') ranks no heading size
            and volumes[round(ln.size, 1)] <= total / 7
        },
        reverse=True,
    )
    depth: dict[float, Counter[int]] = {}
    for p in pages:
        for ln in p.lines:
            m = _NUMBERED_HEADING.match(ln.text)
            size = round(ln.size, 1)
            if m and size in sizes and not m.group(1).isalpha():
                depth.setdefault(size, Counter())[m.group(1).count(".") + 1] += 1
    return levels_by_size(sizes, depth)


def levels_by_size(sizes: list[float], depth: dict[float, Counter[int]]) -> dict[float, int]:
    """Heading level of each heading size (`sizes`, largest first), learnt from the depth of the
    numbered headings set in it (`depth`: size -> Counter of « 2.3 » depths) where there are some:
    a size as large as or larger than a known level's takes that level, a smaller one the level
    below the deepest known; without numbered headings, levels follow the sizes' rank. Shared by
    the PDF reader and the DOCX reader of documents without heading styles, so that the two files
    of one dossier give the same outline."""
    learned = {s: c.most_common(1)[0][0] for s, c in depth.items()}
    levels: dict[float, int] = {}
    for rank, size in enumerate(sizes):
        if size in learned:
            levels[size] = learned[size]
        else:
            below = [learned[s] for s in learned if s <= size]
            above = [learned[s] for s in learned if s > size]
            if not learned:
                levels[size] = min(rank + 1, 6)
            elif below:
                levels[size] = min(below)  # same size or larger than a known level: that level
            else:
                levels[size] = min(max(above) + 1, 6)
    return levels


# --- blocks -------------------------------------------------------------------------------------


def build_blocks(pages: list[Page], use_outline: bool) -> list[RawBlock]:
    vocab = {w.lower() for p in pages for ln in p.lines for w in re.findall(r"\w+", ln.text)}
    grids = [_grids(p.rules) if p.rules else [] for p in pages]
    for p, page_grids in zip(pages, grids, strict=True):
        p.lines = assemble_rows(ruled_rows(p.lines, page_grids, vocab), vocab)
    body = _body_size(pages)
    column = _body_column(pages, body)
    levels = _heading_levels(pages, body)
    for p in pages:
        for j, ln in enumerate(p.lines):
            if _justified_heading(p.lines, j, levels, p.width):
                _as_one_run(ln)
        p.lines = _join_wrapped_first_cells(p.lines, vocab)
    if use_outline:
        # the outline names the headings; lines set like them (an unlisted "Foreword") and a title
        # larger than all of them are added
        named: dict[float, Counter[int]] = {}
        for p in pages:
            for ln in p.lines:
                if ln.heading_level is not None:
                    named.setdefault(round(ln.size, 1), Counter())[ln.heading_level] += 1
        largest = max(named, default=0.0)
        levels = {s: 1 for s in levels if s > largest + 1.0}
        levels.update({s: c.most_common(1)[0][0] for s, c in named.items() if s >= body * 1.15})
    deepest = max(levels.values(), default=0)
    _mark_slide_titles(pages, body, levels)
    contents: _Contents | None = None
    later = _Later(pages)
    at = -1  # index of the line in the document, as `_Later` counts them
    blocks: list[RawBlock] = []
    tail_row: Line | None = None  # the last line of the previous page, when it was a table row
    tail: tuple[RawBlock, Line] | None = None  # the previous page's last block and line
    bold_starts: set[int] = set()  # paragraphs whose first line is bold (table group labels are)
    for page_no, page in enumerate(pages, 1):
        lines = _carry_row_over(page.lines, tail_row, blocks, vocab)
        tail_row = lines[-1] if lines and lines[-1].is_row else None
        gaps = [round(a.y - b.y, 1) for a, b in itertools.pairwise(lines) if 0 < a.y - b.y < body * 3]
        # body lines are measured against the body's line pitch; larger lines (titles wrapped over
        # two lines, set with more space) against the page's most common gap, as they always were
        line_gap = _line_pitch(gaps) if gaps else body * 1.2
        wide_gap = Counter(gaps).most_common(1)[0][0] if gaps else body * 1.2
        ys: dict[int, list[Line]] = {}
        for ln in lines:
            ys.setdefault(round(ln.y), []).append(ln)
        cur: RawBlock | None = None
        prev: Line | None = None
        # the table row the current table block ends with: its size (None: no table row), its cells
        # (left, right, text), and per column holding text where that cell's last line ends
        row_size: float | None = None
        row_cells: list[tuple[float, float, str]] = []
        row_rights: dict[int, float] = {}
        for j, ln in enumerate(lines):
            text = ln.text
            at += 1
            nxt = lines[j + 1] if j + 1 < len(lines) else None
            if TOC_TITLE.match(text.strip(" :")):
                contents = _Contents(body, later)  # a table of contents repeats the headings: not content
                continue
            if contents is not None and contents.takes(ln, text, nxt, at):
                continue
            contents = None
            if (_TOC_LEADER.search(text) or _TOC_DOTS.search(text)) and ln.heading_level is None:
                continue
            if tail is not None and prev is None:
                carried, last = tail
                tail = None
                same_grid = _in_one_table(last, grids[page_no - 2], ln, grids[page_no - 1])
                if blocks and blocks[-1] is carried and _runs_on(carried, last, ln, text, same_grid):
                    cur = blocks.pop()
                    if cur.kind == "table":  # the row is added below, as the table's next row
                        assert cur.rows is not None
                        cur.breaks.append(len(cur.text) + 1)
                        if [c.strip() for c in text.split(" | ")] == cur.rows[0]:
                            prev = ln  # the header row repeated at the top of the page
                            continue
                    else:
                        cur.text = join_lines(cur.text, text, vocab)
                        cur.breaks.append(len(cur.text) - len(text))
                        prev = ln
                        continue
            gap = (prev.y - ln.y) if prev is not None else 0.0
            size_above = prev.size if prev is not None else body
            spacing = max(line_gap if size_above < body + 0.5 else wide_gap, size_above * 1.25)
            new_para = prev is None or gap > spacing * 1.3 or gap < -body  # a jump back up: column, box
            if gap < -body and _continues_in_next_column(cur, prev, ln, text):
                new_para = False  # a sentence running on at the top of the next column
            if not new_para and prev is not None and _hard_break(prev, ln, page.width, column):
                new_para = True
            if cur is not None and cur.kind == "table" and row_size is not None and cur.rows:
                at_columns = _row_continuation(row_cells, row_rights, ln, gap, row_size)
                if at_columns is not None:  # cells wrapped onto a line of their own: back into their row
                    row = cur.rows[-1]
                    for k, right, cell in at_columns:
                        row[k] = join_lines(row[k], cell, vocab) if row[k] else cell
                        row_rights[k] = right
                    cur.text = (
                        cur.text.rsplit("\n", 1)[0] + "\n" + " | ".join(row) if "\n" in cur.text else " | ".join(row)
                    )
                    prev = ln
                    continue
            # cells of a table drawn as separate lines (running text of the other column, set in another size,
            # is not one)
            side_by_side = any(
                o is not ln
                and (abs(o.size - ln.size) < 0.5 or abs(o.size - body) >= 0.5 or len(o.text) < 40)
                and not _beside_in_other_column(ln, o, page.width, levels, body)
                for o in ys[round(ln.y)]
            )
            kind, level = _line_kind(ln, text, levels, use_outline, side_by_side, body)
            if kind == "heading" and ln.heading_level is None and _wraps_on(cur, prev, ln, text, new_para):
                kind, level = "paragraph", None  # a slide's bullet set in a title's size, wrapped
            lettered = kind == "list_item" and _LETTERED.match(text)
            if (
                (kind == "paragraph" or lettered)
                and not use_outline
                and _bold_heading(
                    ln, text, new_para, nxt, body, side_by_side, lines[j + 2] if j + 2 < len(lines) else None
                )
            ):
                numbered = _NUMBERED_HEADING.match(text)
                kind = "heading"
                level = min(numbered.group(1).count(".") + 1, 6) if numbered else min(deepest + 1, 6)
            if kind == "list_item":
                # the bullet or number is layout, not text (a DOCX list has neither in its text)
                text = _NUMBERED_ITEM.sub("", _BULLET.sub("", text, count=1), count=1).strip() or text
            same_size = prev is not None and abs(prev.size - ln.size) < 0.5
            if (
                cur is not None
                and not new_para
                and (
                    (kind == "paragraph" and cur.kind in ("paragraph", "list_item") and not ln.is_row)
                    # a caption's second line, when the caption is set apart (smaller, larger or bold): in
                    # the body's style nothing tells its end from the paragraph under it
                    or (
                        kind == "paragraph"
                        and cur.kind == "caption"
                        and prev is not None
                        and same_size
                        and prev.bold == ln.bold
                        and (ln.bold or abs(ln.size - body) >= 0.5 or _unfinished_caption(cur.text))
                    )
                    or (
                        kind == "heading"
                        and cur.kind == "heading"
                        and same_size
                        and cur.level == level
                        and not _NUMBERED_HEADING.match(text)
                        and not _ENUMERATOR.match(text)
                    )
                )
            ):
                cur.text = join_lines(cur.text, text, vocab)
            elif cur is not None and kind == "table" and cur.kind == "table":
                cur.text += "\n" + text
                assert cur.rows is not None
                cur.rows.append([c.strip() for c in text.split(" | ")])
                row_size, row_cells, row_rights = _row_columns(ln)
            else:
                if cur is not None:
                    blocks.append(cur)
                cur = RawBlock(kind=cast(BlockKind, kind), text=text, level=level, page=page_no)
                if kind == "paragraph" and ln.bold:
                    bold_starts.add(id(cur))
                row_size, row_cells, row_rights = _row_columns(ln) if kind == "table" else (None, [], {})
                if kind == "table":
                    cur.rows = [[c.strip() for c in text.split(" | ")]]
            prev = ln
        if cur is not None:
            blocks.append(cur)
        tail = (cur, prev) if cur is not None and prev is not None else None
    return _drop_toc_runs(_table_group_headings([b for b in blocks if b.text.strip()], bold_starts))


def _body_column(pages: list[Page], body: float) -> tuple[float, float]:
    """Where body lines start (the most common left edge) and how wide a wrapped body line starting
    there runs (the 90th percentile of their widths); (0, 0) when there are no body lines."""
    lines = [ln for p in pages for ln in p.lines if ln.visible and not ln.is_row and abs(ln.size - body) < 0.5]
    if not lines:
        return 0.0, 0.0
    margin = float(Counter(round(ln.x0) for ln in lines).most_common(1)[0][0])
    widths = sorted(ln.visible[-1].x1 - ln.x0 for ln in lines if abs(ln.x0 - margin) <= MARGIN_TOLERANCE_PT)
    return margin, widths[int(len(widths) * 0.9)] if widths else 0.0


def _hard_break(prev: Line, ln: Line, width: float, column: tuple[float, float]) -> bool:
    """Two lines that a wrap cannot explain, as on a title page: « Module M2 » over « Candidat : Léa
    Fabre ». The lower line's first word would have fitted at the end of the upper one, had the text
    been wrapped; the upper line does not end inside or at the end of a sentence, and the lower one
    starts like a line of its own. Only lines set where body lines start, or both centred on the
    page, are measured against the body's line width: a narrower box elsewhere has its own."""
    margin, full = column
    if not prev.visible or not ln.visible or full <= 0:
        return False
    at_margin = all(abs(line.x0 - margin) <= MARGIN_TOLERANCE_PT for line in (prev, ln))
    centred = all(
        min(line.x0, width - line.visible[-1].x1) >= CENTRED_MIN_MARGIN * width
        and abs(line.x0 - (width - line.visible[-1].x1)) <= CENTRED_TOLERANCE * width
        for line in (prev, ln)
    )
    if not (at_margin or centred) or prev.bold or ln.bold:  # a bold line over two lines is a wrapped title
        return False
    if len(ln.text.strip()) < HARD_BREAK_MIN_CHARS:  # a superscript, a chart's axis label
        return False
    if re.search(r"[,;:.!?…\-–—]$", prev.text.rstrip()) or not re.match(r"[A-ZÀ-Ý0-9«“\"]", ln.text.lstrip()):
        return False
    first = ln.text.split()[0]
    ems = (len(first) + 1) * AVERAGE_CHAR_EM + sum(c.isupper() for c in first) * (CAPITAL_EM - AVERAGE_CHAR_EM)
    return (prev.visible[-1].x1 - prev.x0) + ems * ln.size < full * 0.9


def _line_pitch(gaps: list[float]) -> float:
    """The distance between two lines of one paragraph: the most common gap, or a smaller one that
    comes at least half as often (a page of short list items and paragraphs has as many gaps between
    paragraphs as inside them: taking the larger joined a paragraph to the list item above)."""
    counts = Counter(gaps)
    top = max(counts.values())
    return min(g for g, n in counts.items() if n * 2 >= top)


def _cells(ln: Line) -> list[tuple[float, float, str]]:
    """The line's cells as (left, right, text), split where `Line.text` puts ' | '."""
    out: list[list[Frag]] = []
    for f in ln.visible:
        if out and not _cell_gap(out[-1][-1], f):
            out[-1].append(f)
        else:
            out.append([f])
    return [(c[0].x0, c[-1].x1, Line(frags=c).text) for c in out]


def _row_columns(row: Line) -> tuple[float, list[tuple[float, float, str]], dict[int, float]]:
    """A table row's size, cells, and where each cell holding text ends (for `_row_continuation`)."""
    cells = _cells(row)
    return row.size, cells, {k: right for k, (_, right, text) in enumerate(cells) if text.strip()}


def _row_continuation(
    columns: list[tuple[float, float, str]], rights: dict[int, float], ln: Line, gap: float, size: float
) -> list[tuple[int, float, str]] | None:
    """The pieces of `ln` as (column, right edge, text) when `ln` holds the wrapped ends of the row
    above's cells ('Agence web et assistante' / 'commerciale' in the 'Qui' column), as a word
    processor wraps them: a line's spacing below, each piece starting at one of the row's columns
    that holds text (`rights`: where that cell's last line ends) and ending before the next column,
    fewer pieces than columns; a piece in the first column must be one that did not fit on its
    cell's last line ('Salon des entreprises du' / 'Loiret'): a sparse row of a planning table,
    'P5 … | 2 mois | X', would have fitted there, it is a new row. (The other columns are not
    measured: a browser pads its cells more than a word processor.)"""
    if ln.heading_level is not None or not 0 < gap <= 1.6 * max(ln.size, 1.0) or abs(ln.size - size) > 0.15 * size:
        return None
    pieces = _cells(ln)
    if not pieces or len(pieces) >= len(columns):
        return None
    tol = max(3.0, 0.5 * ln.size)
    out: list[tuple[int, float, str]] = []
    for x0, x1, text in pieces:
        k = next((k for k, (cx0, _, _) in enumerate(columns) if abs(x0 - cx0) <= tol), None)
        if k is None or k not in rights or (out and k <= out[-1][0]):
            return None
        if k + 1 < len(columns) and x1 > columns[k + 1][0] - 1.0:
            return None  # runs past its column: running text, not a cell's end
        if k == 0 and len(columns) > 1:  # a new row names its first column: this must be a wrap
            first = text.split()[0] if text.split() else text
            word = (x1 - x0) * (len(first) + 1) / max(len(text), 1)  # the first word and a space
            if word < columns[1][0] - _CELL_MARGINS_PT - rights[0] - 2.0:
                return None  # it would have fitted on the line above: a new row
        out.append((k, x1, text))
    return out


_GROUP_LABEL = re.compile(r"^[A-ZÀ-Ý][^\d.,;:!?|]{2,58}$")


def _table_group_headings(blocks: list[RawBlock], bold: set[int]) -> list[RawBlock]:
    """A short bold label alone between two parts of a table is a group row set across the table
    (« Client », « Serveur », « Bases de données » in a requirements table): a sub-heading of the
    section, so that quotes from the rows under it are located there, not all under the section.
    Not labels: captions and sources, figures, lines that are not bold (a cell wrapped out of its
    row), and a text that comes back between rows (« Non stationnaire »: a column's value)."""
    labels = {
        i
        for i, b in enumerate(blocks)
        if b.kind == "paragraph"
        and id(b) in bold
        and 0 < i < len(blocks) - 1
        and blocks[i - 1].kind == "table"
        and blocks[i + 1].kind == "table"
        and len(b.text.split()) <= 6
        and _GROUP_LABEL.match(b.text.strip())
        and not _CAPTION.match(b.text.strip())
    }
    seen = Counter(blocks[i].text.strip().lower() for i in labels)
    level = 0
    for i, b in enumerate(blocks):
        if b.kind == "heading":
            level = b.level or level
        elif i in labels and seen[b.text.strip().lower()] == 1:
            b.kind, b.level = "heading", min(level + 1, 6)
    return blocks


def _carry_row_over(lines: list[Line], tail_row: Line | None, blocks: list[RawBlock], vocab: set[str]) -> list[Line]:
    """A table row split over two pages: the lines at the top of the page that sit in a column of
    the previous page's last row, with the table going on below them, end that row's cells."""
    if tail_row is None or not blocks or blocks[-1].kind != "table" or not blocks[-1].rows:
        return lines
    cells = tail_row.visible
    row = blocks[-1].rows[-1]
    j = 0
    while j < len(lines) and not lines[j].is_row and j < 4:
        j += 1
    if j == 0 or j == len(lines) or len(cells) != len(row):
        return lines  # nothing before the table goes on, or no table below
    below = lines[j].visible
    if len(below) != len(cells) or any(abs(a.x0 - b.x0) > 6 for a, b in zip(below, cells, strict=True)):
        return lines  # the rows below are not the same table's
    targets = []
    for ln in lines[:j]:
        # in a column of the row, not the first (text at the margin is a paragraph), within its width
        k = next((k for k, c in enumerate(cells) if k > 0 and abs(c.x0 - ln.x0) < 6), None)
        if (
            k is None
            or abs(ln.size - tail_row.size) > 0.5
            or (k + 1 < len(cells) and ln.visible[-1].x1 > cells[k + 1].x0)
        ):
            return lines
        targets.append(k)
    for ln, k in zip(lines[:j], targets, strict=True):
        row[k] = join_lines(row[k], ln.text, vocab) if row[k] else ln.text
    table = blocks[-1]
    table.text = "\n".join([*table.text.split("\n")[:-1], " | ".join(row)])
    return lines[j:]


def _join_wrapped_first_cells(lines: list[Line], vocab: set[str]) -> list[Line]:
    """A row whose first cell wraps, its other cells set level with the cell's last line: the line
    just above, in the first cell's column and narrower than it, begins that cell
    ('GPA et grade du semestre affichés en tête de page pour les semestres' + 'terminés (…) | 3 | 3')."""
    out: list[Line] = []
    for ln in lines:
        prev = out[-1] if out else None
        cells = ln.visible
        if (
            prev is not None
            and ln.is_row
            and len(cells) > 1
            and not prev.is_row
            and prev.heading_level is None
            and prev.visible
            and abs(prev.x0 - cells[0].x0) < 4
            and abs(prev.size - ln.size) < 0.5
            and prev.visible[-1].x1 < cells[1].x0
            and 0 < prev.y - ln.y < 2.5 * max(ln.size, 1.0)
            and cells[0].text.strip()[:1].islower()
            and not prev.text.rstrip().endswith((".", ":", ";", "!", "?"))
        ):
            first = cells[0]
            joined = Frag(
                join_lines(prev.text, first.text.strip(), vocab), first.x0, first.x1, first.y, first.size, first.bold
            )
            out[-1] = Line(frags=[joined, *cells[1:]])
            continue
        out.append(ln)
    return out


# words a sentence cannot end on: a page ending on one goes on over the page break
_OPEN_END = re.compile(
    r"(?:,|\b(?:de|du|des|d['’]|la|le|les|l['’]|à|au|aux|et|ou|en|par|pour|sur|avec|dans|un|une|que|qui|"
    r"dont|est|sont|ont|ne|se|son|sa|ses|leur|leurs|notre|nos|votre|vos|ce|cette|ces|entre|sans|sous|"
    r"vers|chez|contre|selon|mais|donc|car|plus|moins|très))$",
    re.I,
)


def _wraps_on(cur: RawBlock | None, prev: Line | None, ln: Line, text: str, new_para: bool) -> bool:
    """The line is the next line of the paragraph or list item above, whatever its size says: set
    close below an unfinished line of the same size and starting in lower case (« Afin de se
    développer à l’international, nous avons besoin de cibler » / « particulièrement certains pays »,
    a slide's text set larger than a document's body). No title starts in lower case."""
    return (
        cur is not None
        and prev is not None
        and not new_para
        and cur.kind in ("paragraph", "list_item")
        and text[:1].islower()
        # (a bullet drawn larger than its text sets the size of the item's first line)
        and (
            abs(prev.size - ln.size) < 0.5 or (bool(_BULLET.match(prev.text)) and ln.size < prev.size <= 1.25 * ln.size)
        )
        and not cur.text.rstrip().endswith((".", "!", "?", ":", ";"))
    )


def _unfinished_caption(text: str) -> bool:
    """A caption that cannot end where its line does: a parenthesis left open, a comma or a
    word no sentence ends on (« Tableau 3 : Profil des membres (CRM Comptoir Commun, » /
    « décembre 2024) »)."""
    end = text.rstrip()
    return end.count("(") > end.count(")") or bool(_OPEN_END.search(end))


def _in_one_table(last: Line, grids_before: list[Grid], ln: Line, grids: list[Grid]) -> bool:
    """The last line of a page and the first of the next each lie in a table drawn with borders (a
    grid of one row too: a header row alone at a page's foot), and the two tables have the same
    column borders: one table going on over the page break, whatever its rows hold (centred cells,
    empty cells)."""

    def columns(line: Line, page_grids: list[Grid]) -> list[float] | None:
        if not line.visible:
            return None
        mid_x, mid_y = (line.visible[0].x0 + line.visible[-1].x1) / 2, line.y + 0.3 * line.size
        for xs, ys in page_grids:
            if xs[0] < mid_x < xs[-1] and ys[0] < mid_y < ys[-1]:
                return xs
        return None

    above, below = columns(last, grids_before), columns(ln, grids)
    return (
        above is not None
        and below is not None
        and len(above) == len(below)
        and all(abs(a - b) <= 2 * _RULE_SNAP for a, b in zip(above, below, strict=True))
    )


def _runs_on(block: RawBlock, last: Line, ln: Line, text: str, same_grid: bool = False) -> bool:
    """The first line of a page goes on with the block the previous page ended on.

    A paragraph or list item left unfinished (no final punctuation) goes on when the new line is
    body text of the same size starting in lower case, or the page ended on a word no sentence
    ends on (« … face à » / « Kubik Office »). A table goes on when the page opens with a row of
    as many cells, set in the same columns, as the row it ended on (a header row carried alone
    at the foot of a page, or rows split by the break), or when both rows lie in tables drawn
    with the same column borders (`same_grid`: centred or empty cells)."""
    if ln.heading_level is not None or abs(last.size - ln.size) >= 0.5:
        return False
    if block.kind == "table":
        if not (ln.is_row and last.is_row and block.rows):
            return False
        if same_grid:
            return True
        above, below = last.visible, ln.visible
        return len(above) == len(below) > 1 and all(abs(a.x0 - b.x0) <= 6 for a, b in zip(above, below, strict=True))
    if block.kind not in ("paragraph", "list_item") or ln.is_row or _BULLET.match(text) or _NUMBERED_ITEM.match(text):
        return False
    end = block.text.rstrip()
    if not end or end.endswith((".", "!", "?", ":", ";", "…", "»", ")")) or CAPTION_LINE.match(text):
        return False
    # after a comma, a capital starts a name or a new paragraph under a note: only lower case goes on
    return text[:1].islower() or (bool(_OPEN_END.search(end)) and not end.endswith(",") and text[:1].isalnum())


def _continues_in_next_column(cur: RawBlock | None, prev: Line | None, ln: Line, text: str) -> bool:
    """The line at the top of a column goes on with the paragraph left unfinished at the foot of
    the previous one (no final punctuation, a lower-case start, the same type size)."""
    return (
        cur is not None
        and prev is not None
        and cur.kind == "paragraph"
        and not ln.is_row
        and ln.x0 >= prev.visible[-1].x1 - 1.0  # the next column, to the right of the line left
        and abs(prev.size - ln.size) < 0.5
        and text[:1].islower()
        and not cur.text.rstrip().endswith((".", "!", "?", ":", ";", "…"))
    )


_HEADING_NUMBER = re.compile(r"(?:\d{1,2}(?:\.\d{1,2})*|[IVX]{1,4}|[A-Z])[.)]?(?:\s|$)")


def _beside_in_other_column(ln: Line, o: Line, width: float, levels: dict[float, int], body: float) -> bool:
    """Whether `o`, on `ln`'s baseline, is the other column of a page set in two, not a cell of `ln`'s
    row: `ln` is set in a heading size and each line keeps to its half of the page, and `o` is running
    text (body size: « de rapports annuels, d’étiquettes et de » beside « 2 L’Agence Sillage ») or the
    contents' title (« Table des matières » beside « 1 Introduction »)."""
    a, b = ln.visible, o.visible
    if not a or not b or round(ln.size, 1) not in levels:
        return False
    half = width / 2
    apart = (a[-1].x1 <= half <= b[0].x0) or (b[-1].x1 <= half <= a[0].x0)
    return apart and (abs(o.size - body) < 0.5 or bool(TOC_TITLE.match(o.text.strip(" :"))))


def _justified_heading(lines: list[Line], j: int, levels: dict[float, int], width: float) -> bool:
    """A heading set in a narrow justified column, its words pulled apart ('2   Présentation      de'):
    wide gaps in a short line set in one heading size, with no table row above or below it but the
    other lines of the same heading. Its words are one title when the line opens with the heading's
    number (« 2   L’Agence      Sillage »), when the words after the first are lower case, or when it
    goes on from the heading's line above (« 6.4   Participer   au   salon » then « Cap’Entreprises
    Grand » then « Est »: a long title wrapped over three lines of a two-column LaTeX report). Lines
    are read top down (`build_blocks`): the line above, if it was such a heading, is one run already."""
    ln = lines[j]
    vis = ln.visible
    if not ln.is_row or len(vis) > 4 or round(ln.size, 1) not in levels or len(ln.text) > 120:
        return False
    if any(abs(f.size - ln.size) > 0.3 or f.bold != vis[0].bold for f in vis):
        return False
    if vis[-1].x1 - vis[0].x0 > 0.5 * width:  # within one column of a page set in two: not two columns' titles
        return False

    def same_heading(k: int) -> bool:  # a line of the same title: its size and weight, within the column
        other = lines[k].visible if 0 <= k < len(lines) else []
        return bool(other) and abs(lines[k].size - ln.size) <= 0.3 and all(f.bold == vis[0].bold for f in other)

    goes_on = same_heading(j - 1) and not lines[j - 1].is_row
    one_title = (
        bool(_HEADING_NUMBER.match(vis[0].text.strip()))
        or all(f.text.strip()[:1].islower() for f in vis[1:])
        or goes_on
    )
    return one_title and not any(
        0 <= k < len(lines) and lines[k].is_row and not same_heading(k) for k in (j - 1, j + 1)
    )


def _as_one_run(ln: Line) -> None:
    """Read a line's fragments as one run of words (no cell boundary)."""
    vis = ln.visible
    text = " ".join(f.text.strip() for f in vis)
    ln.frags = [Frag(text, vis[0].x0, vis[-1].x1, vis[0].y, max(f.size for f in vis), vis[0].bold)]
    ln.__dict__.pop("text", None)


@dataclass
class _Contents:
    """A table of contents being read: its entries repeat the headings, they are not content.

    An entry carries a page number after a leader, or in a cell of its own when its text names a
    later line (or it is the first line of an entry whose number is on the next line); in contents
    without page numbers, an entry names a line that comes later in the document and that the
    contents have not listed yet (listed twice, it is the heading itself). The contents
    end at the first line that is no entry: with their page, unless the next page opens with an
    entry. Nothing after them is dropped.
    """

    body: float
    later: _Later = field(repr=False)
    numbered: bool = False
    listed: set[str] = field(default_factory=set)

    def takes(self, ln: Line, text: str, nxt: Line | None, at: int) -> bool:
        if ln.heading_level is not None or ln.size >= self.body * 1.15 or len(text) >= 150:
            return False
        if _TOC_COLUMN.match(text):
            return True
        keys = _entry_keys(text)
        later = any(self.later.after(k, at) for k in keys)
        # a number in a cell of its own is an entry's when the text names a later line (not a table row)
        if _TOC_DOTS.search(text) or (_TOC_CELL.match(text) and later):
            self.numbered = True
            self.listed.update(keys[:1])
            return True
        if text.endswith((".", ";", ",")):
            return False
        if nxt is not None and _has_folio(nxt.text) and abs(nxt.size - ln.size) < 0.5:
            return True  # an entry wrapped over two lines
        if self.numbered or not keys or keys[0] in self.listed or not later:
            return False
        self.listed.add(keys[0])
        return True


def _has_folio(text: str) -> bool:
    return bool(_TOC_DOTS.search(text) or _TOC_CELL.match(text))


def _entry_keys(text: str) -> list[str]:
    """Match keys of a contents entry or a heading, without page number, punctuation and case; the
    second without the heading's number ('1. Introduction' is listed as 'Introduction')."""
    key = _key(_TRAILING_NUMBER.sub("", text))
    bare = re.sub(r"^\d+", "", key)
    return [k for k in dict.fromkeys((key, bare)) if len(k) >= 3]


class _Later:
    """Where the document's lines are (index of the line in the document), by match key: each line,
    and two or three consecutive lines joined (a heading that wraps)."""

    def __init__(self, pages: list[Page]) -> None:
        self.last: dict[str, int] = {}
        self.lines: dict[str, int] = {}  # single lines only
        at = -1
        for p in pages:
            keys = [_key(ln.text) for ln in p.lines]
            for j in range(len(keys)):
                at += 1
                for width in (1, 2, 3):
                    if j + width <= len(keys):
                        joined = "".join(keys[j : j + width])
                        for k in (joined, re.sub(r"^\d+", "", joined)):
                            if len(k) >= 3:
                                self.last[k] = at
                                if width == 1:
                                    self.lines[k] = at
        self.ordered = sorted(self.lines)

    def after(self, key: str, at: int) -> bool:
        """Whether a line after `at` reads `key`, or starts with it and adds a word or two ('Arborescence'
        listed, 'Arborescence web' as the heading)."""
        if self.last.get(key, -1) > at:
            return True
        if len(key) < 6:
            return False
        i = bisect.bisect_left(self.ordered, key)
        while i < len(self.ordered) and self.ordered[i].startswith(key):
            k = self.ordered[i]
            if len(k) <= len(key) + 15 and self.lines[k] > at:
                return True
            i += 1
        return False


def _mark_slide_titles(pages: list[Page], body: float, levels: dict[float, int]) -> None:
    """On a slide (a landscape page), a short line set large and standing alone at the top is a
    heading even when neither the outline nor the heading sizes name it (a deck's title page set
    smaller than its slide titles). Before any other heading it is the document's title (level 1,
    as a word processor's Title); later, one level below the headings set larger."""
    titled = False
    for page in pages:
        lines = page.lines
        group = _top_title(lines, body) if page.width > page.height else None
        if group and (not titled or round(group[0].size, 1) not in levels):
            larger = [lvl for s, lvl in levels.items() if s > group[0].size]
            level = min(max(larger) + 1, 6) if titled and larger else 1
            for ln in group:
                ln.heading_level = level
        titled = titled or any(ln.heading_level is not None or round(ln.size, 1) in levels for ln in lines)


def _top_title(lines: list[Line], body: float) -> list[Line] | None:
    """The first line of a page (with the lines it wraps onto) when it is at the top, set large,
    short, and alone: the next line is smaller or stands apart."""
    if not lines or lines[0].heading_level is not None:
        return None
    first = lines[0]
    if first.size < body * 1.15 or any(ln.y > first.y + 1.0 for ln in lines[1:]):
        return None
    group = [first]
    for ln in lines[1:]:
        if abs(ln.size - first.size) >= 0.5 or not 0 < group[-1].y - ln.y < first.size * 1.6:
            break
        group.append(ln)
    text = " ".join(ln.text for ln in group)
    if len(group) > 3 or len(text) >= 150 or text.endswith((".", ";", ",")):
        return None
    if (
        any(ln.is_row or ln.heading_level is not None for ln in group)
        or sum(abs(ln.y - first.y) < 1 for ln in lines) > 1
    ):
        return None  # a table, or lines side by side
    if _BULLET.match(text) or _DATE_LINE.match(text) or not re.search(r"[^\W\d_]{2}", text):
        return None
    return group


def _bold_heading(
    ln: Line, text: str, new_para: bool, nxt: Line | None, body: float, side: bool, nxt2: Line | None = None
) -> bool:
    """A short bold line of body size standing alone (LaTeX \\paragraph, Word bold titles) is a heading;
    not the first line of a paragraph set in bold."""
    if side or ln.is_row or not ln.bold or not new_para or len(text) > 90 or len(text) < 3:
        return False
    if ln.size < body * 0.95 or _CAPTION.match(text):  # a caption or a note, set small or named so
        return False
    if text.endswith((".", ";", ",")) or _BULLET.match(text) or _PAGE_NUMBER.match(text) or _DATE_LINE.match(text):
        return False
    enumerated = re.match(r"(?:[a-h]|\d{1,2}|[IVX]{1,4})[.)] +\S", text)  # 'b. Forces de Porter :'
    if (
        text.endswith(":")
        and not enumerated
        and (len(text) > 40 or len(text.split()) > 5 or nxt is None or len(nxt.text) < 50)
    ):
        return False  # a bold label over a paragraph ('Etape 1 :'), not a form field ('Année : 2025')
    if not (re.match(r"[A-ZÀ-Ý0-9IVX]", text) or _LETTERED.match(text)):
        return False
    if _CALLOUT.match(text):  # a figure in bold ('27%', '500€') is content
        return False
    if re.search(r"[a-zà-ÿ]{2}[.!?] +[A-ZÀ-Ý]", text):
        return False  # a sentence ends inside: the first line of a paragraph set in bold
    if nxt is None:
        return False
    goes_on = nxt.text[:1].islower() and abs(nxt.size - ln.size) < 0.5 and 0 < ln.y - nxt.y < body * 2.5
    if goes_on and (len(text) >= 60 or not nxt.bold):
        # a long line whose sentence goes on below ('… Chez Lenkā, nous' / 'travaillons …'), or a bold
        # lead-in going on in plain text ('En résumé, le secteur' / 'artisanal à Madagascar'); a title
        # wrapped over two short bold lines ('Partenariat avec le' / 'fournisseur') stays a title
        return False
    if (
        goes_on
        and nxt.bold
        and nxt2 is not None
        and nxt2.bold
        and abs(nxt2.size - ln.size) < 0.5
        and 0 < nxt.y - nxt2.y < body * 2.5
    ):
        return False  # a sentence going on over three bold lines or more: a paragraph set in bold
    return not (nxt.bold and abs(nxt.size - ln.size) < 0.5 and 0 < ln.y - nxt.y < body * 1.6)


def _drop_toc_runs(blocks: list[RawBlock]) -> list[RawBlock]:
    """Remove runs of 3+ consecutive headings that mostly reappear later: a table of contents."""

    def key(text: str) -> str:
        return re.sub(r"\W+", "", text.lower())[:20]

    out: list[RawBlock] = []
    i = 0
    while i < len(blocks):
        j = i
        while (
            j < len(blocks)
            and len(blocks[j].text) < 150
            and (blocks[j].kind == "heading" or _NUMBERED_HEADING.match(blocks[j].text))
        ):
            j += 1
        run = blocks[i:j]
        later = {key(b.text) for b in blocks[j:] if b.kind == "heading"} if len(run) >= 3 else set()
        if len(run) >= 3 and sum(key(b.text) in later for b in run) >= 0.6 * len(run):
            i = j
            continue
        out.extend(run or blocks[i : i + 1])
        i = max(j, i + 1)
    return out


# A figure set large on a slide or a dashboard is content, not a title: '96% taux de rachat',
# '+10%', '2 articles achetés par session', 'Taux de conversion : 2.56%', a bare '02', a line
# starting with a bracket ('(écart-type 1.3)').
_CALLOUT = re.compile(
    r"^(?:[+\-−]?\d[\d\s.,]*\s?(?:%|€|k€|M€|pts?\b)"
    r"|\d+\s+(?:à\s+\d+\s+)?[a-zà-ÿ]"
    r"|(?!(?:19|20)\d\d\b)[\d\s.,%€+\-−]+$"  # figures alone, not a year (a title's '2026' wrapped)
    r"|\("
    r"|[^:]{2,60}:\s*[+\-−]?\d[\d\s]*(?:[.,]\d+)?\s?(?:%|€|k€|M€)$)"
)


def _line_kind(
    ln: Line, text: str, levels: dict[float, int], use_outline: bool, side_by_side: bool, body: float
) -> tuple[str, int | None]:
    if ln.heading_level is not None:
        return "heading", min(ln.heading_level, 6)
    if ln.is_row:
        return "table", None
    if CAPTION_LINE.match(text) and len(text) <= CAPTION_MAX_CHARS:
        return "caption", None
    if _BULLET.match(text) and len(text) > 2:
        return "list_item", None
    if _DATE_LINE.match(text):
        return "paragraph", None
    short = len(text) < 150 and not text.endswith((".", ";", ",")) and not _CALLOUT.match(text)
    size = round(ln.size, 1)
    numbered = _NUMBERED_HEADING.match(text)
    if short and size in levels and not side_by_side and (not use_outline or not numbered):
        return "heading", levels[size]
    if not use_outline and not side_by_side:
        if short and size in levels:
            if numbered and not numbered.group(1).isalpha():
                return "heading", min(numbered.group(1).count(".") + 1, 6)
            return "heading", levels[size]
        if short and numbered and ln.bold and len(text) < 100:
            if not numbered.group(1).isalpha():
                return "heading", min(numbered.group(1).count(".") + 1, 6)
            if _ROMAN_HEADING.match(text):  # « I. Sur le plan personnel »: below every title set larger
                return "heading", min(max(levels.values(), default=0) + 1, 6)
    if _NUMBERED_ITEM.match(text):
        return "list_item", None
    return "paragraph", None


def join_lines(a: str, b: str, vocab: set[str]) -> str:
    """Join two lines of a paragraph; a line-end hyphen is removed only when the joined word is
    French or occurs elsewhere in the document (otherwise it is a compound: 'vente-conseil')."""
    m = re.search(r"(\w+)-$", a)
    if m and b[:1].isalnum():
        n = re.match(r"\w+", b)
        right = n.group(0) if n else ""
        if b[:1].islower() and join_hyphenated(m.group(1), right, vocab):
            return a[:-1] + b
        return a + b
    if cut_word(a, b, vocab):
        return a + b
    return f"{a} {b}"


def cut_word(a: str, b: str, vocab: set[str]) -> bool:
    """A word cut without a hyphen at the edge of a narrow box or cell ('prestatair' / 'e',
    'updated_' / 'at', 'membre' / 's', as LibreOffice draws a label that does not fit): with the
    lower-case start of `b`, the piece ending `a` (three characters or more) makes a French word or
    a word of the document, and either that piece is no word or `b` starts with one or two letters
    that are none."""
    left, right = re.search(r"(\w+)$", a), re.match(r"\w+", b)
    if not (left and right and b[:1].islower() and len(left.group(1)) >= 3 and not left.group(1).isdigit()):
        return False  # ('1..n' over 'id' is a label's letters, not a cut)
    whole = is_word(left.group(1) + right.group(0), vocab)
    if not is_word(left.group(1)):
        return whole
    # a word's last letters alone on the next line ('membre' / 's' in a narrow header cell): the
    # piece ending `a` is a word, but one or two letters that are none cannot start a line of text
    # (« public » / « s’améliore » is an elided word, not a cut)
    short = len(right.group(0)) <= 2 and not is_word(right.group(0)) and not re.match(r"\w+['’]", b)
    return whole and short
