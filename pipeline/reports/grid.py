"""The assessor's evaluation grid, as a Word document (A4 landscape) and as a printable HTML page.

Both renderings show the same content, built from one `GridDoc`: alerts first, then one
table per competency where the confirmed level stands apart from the tool's suggestion.
The text helpers below are shared with the candidate feedback (`feedback.py`) so both
documents word levels, places and dates the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from pipeline.reports.grid_data import CompetencyBlock, CriterionLine, EvidenceRef, GridDoc
from pipeline.reports.wording import TO_VERIFY, backend_label
from pipeline.textnorm import clip as clip_words

TEMPLATES = Path(__file__).with_name("templates")
PASSAGE_MAX_CHARS = 600
UNDECIDED = "à décider"
DRAFT_STATUS = "NON VALIDÉE — brouillon"

_GREY = RGBColor(0x6B, 0x6B, 0x6B)
_RED = RGBColor(0xB0, 0x00, 0x20)
_DARK = RGBColor(0x1F, 0x38, 0x64)
_ALERT_FILL = "FDECEA"
_HEAD_FILL = "DCE3EE"
_SUGGESTION_FILL = "F2F2F2"
# characters XML 1.0 forbids; python-docx refuses them, and dossier text is untrusted
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PARIS: ZoneInfo | None
try:
    _PARIS = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database (bare Windows without tzdata): show UTC
    _PARIS = None


# --- wording shared by every rendering ------------------------------------------------------------


def xml_safe(text: str) -> str:
    """Drop the characters Word documents cannot hold (control characters, lone surrogates)."""
    return _XML_ILLEGAL.sub("", text)


def clip(text: str, limit: int = PASSAGE_MAX_CHARS) -> str:
    return clip_words(text, limit)


def fmt_datetime(value: dt.datetime | None, with_time: bool = True) -> str:
    """French date (Paris time; naive values are taken as UTC, as the store writes them)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if _PARIS is not None:
        value = value.astimezone(_PARIS)
        suffix = ""
    else:
        value = value.astimezone(dt.UTC)
        suffix = " UTC"
    return value.strftime("%d/%m/%Y à %H:%M" if with_time else "%d/%m/%Y") + (suffix if with_time else "")


def level_text(level: int | None, label: str | None) -> str:
    if level is None:
        return UNDECIDED
    return f"{level} — {label}" if label else str(level)


def evidence_place(e: EvidenceRef) -> str:
    """Where a quote was found: `p. 3`, else its section name, else empty."""
    return f"p. {e.page}" if e.page is not None else e.section.strip()


def evidence_places(evidence: Iterable[EvidenceRef]) -> str:
    """`p. 3, p. 7` (sorted, deduplicated), then section names for quotes without a page."""
    evidence = list(evidence)
    pages = sorted({e.page for e in evidence if e.page is not None})
    sections = list(dict.fromkeys(e.section.strip() for e in evidence if e.page is None and e.section.strip()))
    places = ", ".join([f"p. {p}" for p in pages] + sections)
    unsure = sum(e.to_verify for e in evidence)
    return f"{places} (dont {unsure} {TO_VERIFY})" if unsure else places


def competency_verdict(block: CompetencyBlock) -> tuple[str, bool]:
    """(verdict, confirmed): the confirmed verdict once every criterion is decided, else the suggested one."""
    if block.confirmed_verdict is not None:
        return block.confirmed_verdict, True
    return block.suggested_verdict, False


def preambles(block: CompetencyBlock) -> list[tuple[str, bool]]:
    """Per criterion: (preamble, shortened). A preamble repeated from the row above is shortened to its end."""
    out: list[tuple[str, bool]] = []
    previous: str | None = None
    for line in block.criteria:
        text = (line.preamble or "").strip()
        if text and text == previous:
            words = text.split()
            out.append(("… " + " ".join(words[-3:]), True) if len(words) > 3 else (text, False))
        else:
            out.append((text, False))
        previous = text or None
    return out


def pending(block: CompetencyBlock) -> int:
    return sum(1 for c in block.criteria if c.confirmed_level is None)


def verdict_text(block: CompetencyBlock) -> tuple[str, bool]:
    """`Verdict : acquise` once confirmed, else the suggested verdict marked as such; and whether confirmed."""
    verdict, confirmed = competency_verdict(block)
    if confirmed:
        return f"Verdict : {verdict}", True
    return f"Verdict : {verdict} — suggéré ({pending(block)} critère(s) restant à décider)", False


def assessors(doc: GridDoc) -> list[str]:
    names = [c.assessor for b in doc.competencies for c in b.criteria if c.assessor]
    if doc.finalized_by:
        names.insert(0, doc.finalized_by)
    return list(dict.fromkeys(names))


def is_final(doc: GridDoc) -> bool:
    return doc.locked and doc.finalized_at is not None


def validation_text(doc: GridDoc) -> str:
    if is_final(doc):
        return f"Validée par {doc.finalized_by or '—'} le {fmt_datetime(doc.finalized_at)}"
    return DRAFT_STATUS


def progress(doc: GridDoc) -> tuple[int, int]:
    lines = [c for b in doc.competencies for c in b.criteria]
    return sum(1 for c in lines if c.confirmed_level is not None), len(lines)


def suggestion_note(line: CriterionLine) -> str:
    """A short note under the tool's suggestion: flagged for review, or overridden by the assessor."""
    notes = []
    if line.suggestion_status == "à revoir":
        notes.append("à revoir")
    if line.confirmed_level is not None and line.suggested_level is not None:
        notes.append("retenue" if line.confirmed_level == line.suggested_level else "corrigée")
    return ", ".join(notes)


def referentiel_text(doc: GridDoc) -> str:
    """The referentiel's title, with its version only when the title does not already say it."""
    title, version = doc.referentiel_title, doc.referentiel_version
    return title if not version or version in title else f"{title} (version {version})"


def candidate_text(doc: GridDoc) -> str:
    return doc.candidate_ref.strip() or f"non renseigné (dossier « {doc.file_name} »)"


def blocs_text(doc: GridDoc) -> str:
    return " ; ".join(f"{b.id} — {b.title}" for b in doc.blocs)


def header_rows(doc: GridDoc) -> list[tuple[str, str]]:
    decided, total = progress(doc)
    rows = [("Candidat", candidate_text(doc))]
    if doc.session:
        rows.append(("Session", doc.session))
    rows += [
        ("Référentiel", referentiel_text(doc)),
        ("Module", f"{doc.module} — {doc.module_title}"),
    ]
    if doc.blocs:
        rows.append(("Bloc de compétences", blocs_text(doc)))
    rows += [
        ("Dossier", doc.file_name),
        ("Analyse automatique", f"{fmt_datetime(doc.reviewed_at)} — {backend_label(doc.backend)} — n° {doc.run_id}"),
        ("Correcteur(s)" if doc.markers else "Évaluateur", ", ".join(doc.markers or assessors(doc)) or "non affecté"),
    ]
    if doc.moderators:
        rows.append(("Modération", ", ".join(doc.moderators)))
    rows += [
        ("Validation", validation_text(doc)),
        ("Avancement", f"{decided} critère(s) décidé(s) sur {total}"),
    ]
    return rows


def running_header(doc: GridDoc) -> str:
    parts = ["Grille d’évaluation", candidate_text(doc) if doc.candidate_ref.strip() else doc.file_name]
    if doc.session:
        parts.append(doc.session)
    parts.append(f"module {doc.module}")
    return " — ".join(parts)


def module_result_rows(doc: GridDoc) -> list[tuple[str, str]]:
    """(what, result) for every competency then every bloc; `à décider` while criteria are open."""
    rows = []
    for block in doc.competencies:
        verdict, confirmed = competency_verdict(block)
        rows.append((f"Compétence {block.id}", verdict if confirmed else f"{UNDECIDED} (suggestion : {verdict})"))
    for b in doc.blocs:
        rows.append((f"Bloc {b.id} — {b.title}", b.result or UNDECIDED))
    return rows


@cache
def template_env() -> jinja2.Environment:
    """Jinja environment over `templates/`, autoescaping everything: dossier text is untrusted."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        fmt_datetime=fmt_datetime,
        level_text=level_text,
        evidence_place=evidence_place,
        evidence_places=evidence_places,
        verdict_text=verdict_text,
        clip=clip,
        suggestion_note=suggestion_note,
        preambles=preambles,
        zip=zip,
        UNDECIDED=UNDECIDED,
    )
    return env


# --- python-docx building blocks, shared with the feedback document -------------------------------


def new_document(landscape: bool) -> DocxDocument:
    """An A4 document (portrait or landscape), Arial 10 pt, 1.5 cm margins."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = (Cm(29.7), Cm(21.0)) if landscape else (Cm(21.0), Cm(29.7))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    section.header_distance = section.footer_distance = Cm(0.7)
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(3)
    for name, size in (("Title", 20), ("Heading 1", 14), ("Heading 2", 12)):
        style = document.styles[name]
        style.font.name = "Arial"
        style.font.size = Pt(size)
        style.font.color.rgb = _DARK
    return document


def usable_width(document: DocxDocument) -> int:
    s = document.sections[0]
    return int(s.page_width or 0) - int(s.left_margin or 0) - int(s.right_margin or 0)


def add_run(
    par: Paragraph,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    color: RGBColor | None = None,
) -> None:
    run = par.add_run(xml_safe(text))
    run.bold = bold or None
    run.italic = italic or None
    if size is not None:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color


def cell_par(cell: _Cell, first: bool = False) -> Paragraph:
    """The cell's empty first paragraph when `first`, else a new one."""
    par = cell.paragraphs[0] if first else cell.add_paragraph()
    par.paragraph_format.space_after = Pt(2)
    return par


def shade(cell: _Cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def box_borders(table: Table, color: str) -> None:
    """A single-line border around and inside the table (for tables without a grid style)."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "8")
        el.set(qn("w:color"), color)
        borders.append(el)
    tbl_pr.append(borders)


def set_widths(table: Table, widths: list[int]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = w
    for col, w in zip(table.columns, widths, strict=True):
        col.width = w


def repeat_header(table: Table) -> None:
    """Repeat the first row on every page, keep it with the next row, and never split a body row.

    The header row itself must not carry `cantSplit`: LibreOffice then drops the whole table
    from the layout when the header lands at the foot of a page.
    """
    table.rows[0]._tr.get_or_add_trPr().append(_on("w:tblHeader"))
    for cell in table.rows[0].cells:
        for par in cell.paragraphs:
            par.paragraph_format.keep_with_next = True
    for row in table.rows[1:]:
        row._tr.get_or_add_trPr().append(_on("w:cantSplit"))


def _on(tag: str) -> BaseOxmlElement:
    el = OxmlElement(tag)
    el.set(qn("w:val"), "true")
    return el


def page_furniture(
    document: DocxDocument, left: str, right: str = "", right_red: bool = False, section: Section | None = None
) -> None:
    """Running header (`left`, `right` flush right) and a `page N / M` footer, on `section` (default: the first)."""
    section = section or document.sections[0]
    if section is not document.sections[0]:
        section.header.is_linked_to_previous = False
        section.footer.is_linked_to_previous = False
    head = section.header.paragraphs[0]
    head.style = document.styles["Normal"]  # the "Header" style's own tab stops would catch the tab first
    head.paragraph_format.tab_stops.add_tab_stop(usable_width(document), alignment=WD_TAB_ALIGNMENT.RIGHT)
    add_run(head, left, size=8, color=_GREY)
    if right:
        add_run(head, "\t" + right, bold=right_red, size=8, color=_RED if right_red else _GREY)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_run(foot, "page ", size=8, color=_GREY)
    _field(foot, "PAGE")
    add_run(foot, " / ", size=8, color=_GREY)
    _field(foot, "NUMPAGES")


def signature_block(document: DocxDocument, signers: list[tuple[str, str]]) -> None:
    """One box per signer (role, name): name, date and a space to sign, kept together on one page."""
    title = document.add_paragraph()
    title.paragraph_format.space_before = Pt(10)
    title.paragraph_format.keep_with_next = True
    add_run(title, "Signatures", bold=True, color=_DARK)
    table = document.add_table(rows=1, cols=len(signers))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    box_borders(table, "BFBFBF")
    set_widths(table, [int(usable_width(document) / len(signers))] * len(signers))
    table.rows[0]._tr.get_or_add_trPr().append(_on("w:cantSplit"))
    for cell, (role, name) in zip(table.rows[0].cells, signers, strict=True):
        add_run(cell_par(cell, first=True), role, bold=True, size=9)
        add_run(cell_par(cell), f"Nom : {name}" if name else "Nom : " + "." * 40, size=9)
        add_run(cell_par(cell), "Date : " + "." * 20, size=9)
        add_run(cell_par(cell), "Signature :", size=9)
        for _ in range(3):
            cell_par(cell)


def _field(par: Paragraph, code: str) -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), f" {code} ")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    sz = OxmlElement("w:sz")
    sz.set(qn("w:val"), "16")
    rpr.append(sz)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    par._p.append(fld)


# --- DOCX grid ------------------------------------------------------------------------------------

# Critère | Niveau confirmé | Commentaire | Preuves | Suggestion, in cm, summing to the 26.7 cm of A4 landscape
_COLUMNS = [
    ("Critère", 9.6),
    ("Niveau confirmé", 3.6),
    ("Commentaire de l’évaluateur", 6.2),
    ("Preuves", 3.9),
    ("Suggestion de l’outil", 3.4),
]


def grid_docx(doc: GridDoc, path: Path) -> None:
    """Write the grid as an A4 landscape Word document at `path`."""
    document = new_document(landscape=True)
    write_grid(document, doc, document.sections[0])
    document.save(str(path))


def write_grid(document: DocxDocument, doc: GridDoc, section: Section) -> None:
    """The whole grid of one dossier, from `section` on (a session writes one section per candidate)."""
    page_furniture(
        document, running_header(doc), "" if is_final(doc) else DRAFT_STATUS, right_red=True, section=section
    )
    document.add_heading(xml_safe("Grille d’évaluation"), level=0)
    if doc.warnings or doc.manipulation_passages:
        _alert_box(document, doc)
    _header_block(document, doc)
    for block in doc.competencies:
        _competency(document, block)
    _module_result(document, doc)
    _legend(document, doc)
    _signature(document, doc)


def _alert_box(document: DocxDocument, doc: GridDoc) -> None:
    table = document.add_table(rows=1, cols=1)
    box_borders(table, "B00020")
    cell = table.cell(0, 0)
    shade(cell, _ALERT_FILL)
    set_widths(table, [usable_width(document)])
    add_run(
        cell_par(cell, first=True), "⚠ Alertes sur ce dossier — à lire avant de noter", bold=True, size=11, color=_RED
    )
    for w in doc.warnings:
        add_run(cell_par(cell), "• " + w, bold=True)
    if doc.manipulation_passages:
        add_run(cell_par(cell), "Passages signalés (exclus de l’analyse automatique) :", bold=True)
        for passage in doc.manipulation_passages:
            add_run(cell_par(cell), f"« {clip(passage)} »", italic=True, size=9)
    document.add_paragraph()


def _header_block(document: DocxDocument, doc: GridDoc) -> None:
    rows = header_rows(doc)
    table = document.add_table(rows=len(rows), cols=2)
    box_borders(table, "BFBFBF")
    set_widths(table, [Cm(4.5), usable_width(document) - Cm(4.5)])
    for i, (key, value) in enumerate(rows):
        key_cell, value_cell = table.cell(i, 0), table.cell(i, 1)
        shade(key_cell, _HEAD_FILL)
        add_run(cell_par(key_cell, first=True), key, bold=True, size=9)
        draft = key == "Validation" and value == DRAFT_STATUS
        add_run(cell_par(value_cell, first=True), value, bold=draft, size=9, color=_RED if draft else None)


def _competency(document: DocxDocument, block: CompetencyBlock) -> None:
    heading = document.add_heading(level=1)
    add_run(heading, f"Compétence {block.id}")
    heading.paragraph_format.keep_with_next = True
    statement = document.add_paragraph()
    statement.paragraph_format.keep_with_next = True
    add_run(statement, block.statement, italic=True, size=9)

    table = document.add_table(rows=1 + len(block.criteria), cols=len(_COLUMNS))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    box_borders(table, "8C8C8C")
    set_widths(table, [Cm(w) for _, w in _COLUMNS])
    for j, (title, _) in enumerate(_COLUMNS):
        cell = table.cell(0, j)
        shade(cell, _SUGGESTION_FILL if j == len(_COLUMNS) - 1 else _HEAD_FILL)
        add_run(cell_par(cell, first=True), title, bold=True, size=9, color=_GREY if j == len(_COLUMNS) - 1 else None)
    for i, (line, (preamble, _)) in enumerate(zip(block.criteria, preambles(block), strict=True), start=1):
        _criterion_row(table, i, line, preamble)
    repeat_header(table)
    for par in table.rows[-1].cells[0].paragraphs:  # keep the verdict below the table on the same page
        par.paragraph_format.keep_with_next = True

    text, confirmed = verdict_text(block)
    par = document.add_paragraph()
    par.paragraph_format.space_before = Pt(4)
    add_run(par, text, bold=confirmed, italic=not confirmed, color=_DARK if confirmed else _GREY)


def _criterion_row(table: Table, i: int, line: CriterionLine, preamble: str) -> None:
    crit, level, comment, proof, suggestion = table.rows[i].cells
    par = cell_par(crit, first=True)
    add_run(par, line.id + " ", bold=True, size=9)
    if preamble:
        add_run(par, preamble + " ", italic=True, size=8.5, color=_GREY)
    add_run(par, line.text, size=9)

    par = cell_par(level, first=True)
    if line.confirmed_level is None:
        add_run(par, UNDECIDED, italic=True, size=9, color=_RED)
    else:
        add_run(par, level_text(line.confirmed_level, line.confirmed_label), bold=True, size=10)
        who = ", ".join(
            x
            for x in (line.assessor or "", fmt_datetime(line.decided_at, with_time=False) if line.decided_at else "")
            if x
        )
        if who:
            add_run(cell_par(level), who, size=7.5, color=_GREY)

    add_run(cell_par(comment, first=True), line.comment, size=9)

    par = cell_par(proof, first=True)
    if line.evidence:
        add_run(par, f"{len(line.evidence)} citation(s) : ", size=8, color=_GREY)
        add_run(par, evidence_places(line.evidence) or "emplacement non repéré", size=9)
    else:
        add_run(par, "aucune", italic=True, size=9, color=_GREY)

    shade(suggestion, _SUGGESTION_FILL)
    par = cell_par(suggestion, first=True)
    add_run(
        par,
        level_text(line.suggested_level, line.suggested_label)
        if line.suggested_level is not None
        else "sans suggestion",
        size=9,
        color=_GREY,
    )
    note = suggestion_note(line)
    if note:
        add_run(cell_par(suggestion), f"({note})", italic=True, size=7.5, color=_GREY)


def _legend(document: DocxDocument, doc: GridDoc) -> None:
    heading = document.add_heading(level=2)
    add_run(heading, "Échelle de notation")
    heading.paragraph_format.keep_with_next = True
    table = document.add_table(rows=1 + len(doc.scale), cols=3)
    box_borders(table, "BFBFBF")
    width = usable_width(document)
    set_widths(table, [Cm(1.8), Cm(3.6), width - Cm(5.4)])
    for j, title in enumerate(("Niveau", "Libellé", "Signification")):
        shade(table.cell(0, j), _HEAD_FILL)
        add_run(cell_par(table.cell(0, j), first=True), title, bold=True, size=9)
    for i, (level, label, meaning) in enumerate(doc.scale, start=1):
        add_run(cell_par(table.cell(i, 0), first=True), str(level), bold=True, size=9)
        add_run(cell_par(table.cell(i, 1), first=True), label, size=9)
        add_run(cell_par(table.cell(i, 2), first=True), meaning, size=9)
    repeat_header(table)
    note = document.add_paragraph()
    add_run(
        note,
        "Le niveau confirmé est celui retenu par l’évaluateur ; la suggestion de l’outil (colonne grisée) "
        "n’est qu’une pré-lecture et n’engage pas la décision. « Preuves » indique où se trouvent les passages "
        "cités par l’outil dans le dossier.",
        italic=True,
        size=8,
        color=_GREY,
    )


def _module_result(document: DocxDocument, doc: GridDoc) -> None:
    """Verdict per competency and result per bloc, with the rules that produce them."""
    heading = document.add_heading(level=1)
    add_run(heading, f"Résultat du module {doc.module}")
    heading.paragraph_format.keep_with_next = True
    rows = module_result_rows(doc)
    table = document.add_table(rows=len(rows), cols=2)
    box_borders(table, "8C8C8C")
    set_widths(table, [Cm(16.0), usable_width(document) - Cm(16.0)])
    for i, (what, result) in enumerate(rows):
        is_bloc = what.startswith("Bloc")
        shade(table.cell(i, 0), _HEAD_FILL)
        add_run(cell_par(table.cell(i, 0), first=True), what, bold=is_bloc, size=9)
        add_run(cell_par(table.cell(i, 1), first=True), result, bold=True, size=9.5 if is_bloc else 9)
        table.rows[i]._tr.get_or_add_trPr().append(_on("w:cantSplit"))
        for par in table.cell(i, 0).paragraphs + table.cell(i, 1).paragraphs:
            par.paragraph_format.keep_with_next = i < len(rows) - 1
    rule = document.add_paragraph()
    rule.paragraph_format.space_before = Pt(3)
    add_run(rule, "Règles : ", bold=True, size=8.5)
    add_run(rule, " ".join(x for x in (doc.rule, doc.bloc_rule) if x), size=8.5)


def _signature(document: DocxDocument, doc: GridDoc) -> None:
    names = ", ".join(doc.markers or assessors(doc))
    signature_block(
        document,
        [("Correcteur(s)" if len(doc.markers) > 1 else "Évaluateur", names), ("Le président du jury", "")],
    )


# --- HTML grid ------------------------------------------------------------------------------------


def grid_html(doc: GridDoc) -> str:
    """The grid as one standalone printable HTML page (inline CSS, one competency per printed page)."""
    return (
        template_env()
        .get_template("grid.html.j2")
        .render(
            doc=doc,
            header_rows=header_rows(doc),
            module_result_rows=module_result_rows(doc),
            running_header=running_header(doc),
            signers=", ".join(doc.markers or assessors(doc)),
            final=is_final(doc),
            draft_status=DRAFT_STATUS,
        )
    )
