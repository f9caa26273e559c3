"""A session's jury documents: the minutes (procès-verbal), the results for the certifier's registry
(CSV through `csv_safe`, JSON) and the candidates' grids with their final levels.

Everything is rendered from one `Minutes` object built from the store (`build_minutes`); the
grid of a session dossier is the ordinary `GridDoc` of its first run with the final levels
(agreed or moderated) in place of one assessor's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Cm, Pt
from pydantic import BaseModel, ConfigDict, Field

from pipeline.db.store import ReviewStore
from pipeline.reports import csv_safe
from pipeline.reports.grid import (
    add_run,
    box_borders,
    cell_par,
    fmt_datetime,
    new_document,
    page_furniture,
    repeat_header,
    set_widths,
    shade,
    signature_block,
    usable_width,
    write_grid,
)
from pipeline.reports.grid_data import GridDoc, bloc_rule_text, build_grid_doc, rule_text
from pipeline.sessions import MemberResult, session_results

_HEAD_FILL = "DCE3EE"


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MinutesModeration(_M):
    criterion: str
    assessors: list[str]
    levels: list[int]
    level: int = Field(description="The level the moderator settled on.")
    moderator: str
    decided_at: dt.datetime
    comment: str = ""


class MinutesCandidate(_M):
    candidate: str
    group: str
    file: str
    run_id: str | None
    status: str
    closed: bool
    assessors: list[str]
    verdicts: dict[str, str]
    blocs: dict[str, str]
    moderations: list[MinutesModeration]
    decided_at: dt.datetime | None = Field(description="When the last assessor finalized or moderated.")
    error: str | None = None


class Minutes(_M):
    session: str
    session_id: str
    module: str
    module_title: str
    referentiel: str
    double_marking: bool
    opened_by: str
    opened_at: dt.datetime
    exported_at: dt.datetime
    rule: str
    bloc_rule: str
    competencies: list[tuple[str, str]] = Field(description="(id, statement) of the module's competencies.")
    blocs: list[tuple[str, str]] = Field(description="(id, title) of the module's blocs.")
    candidates: list[MinutesCandidate]


def build_minutes(store: ReviewStore, session_id: str) -> Minutes:
    sess, results = session_results(store, session_id)
    ref_run = next((r.member.run_id for r in results if r.member.run_id), None)
    if ref_run is not None:
        ref = store.referentiel(ref_run)
    else:
        from pipeline.referentiel import resolve_referentiel

        ref = resolve_referentiel(sess.referentiel.split("@")[0])
    modality = ref.modality(sess.module)
    comps = ref.competencies_for(sess.module)
    bloc_ids = {c.bloc for c in comps}
    return Minutes(
        session=sess.name,
        session_id=sess.id,
        module=sess.module,
        module_title=modality.title,
        referentiel=_ref_title(ref.title, ref.version),
        double_marking=sess.double_marking,
        opened_by=sess.created_by,
        opened_at=sess.created_at,
        exported_at=dt.datetime.now(dt.UTC),
        rule=rule_text(ref),
        bloc_rule=bloc_rule_text(sess.module),
        competencies=[(c.id, c.statement) for c in comps],
        blocs=[(b.id, b.title) for b in ref.blocs if b.id in bloc_ids],
        candidates=[_candidate(r) for r in results],
    )


def _ref_title(title: str, version: str) -> str:
    return title if version in title else f"{title} (version {version})"


def _candidate(r: MemberResult) -> MinutesCandidate:
    mods = [
        MinutesModeration(
            criterion=d.criterion_id,
            assessors=list(d.assessors),
            levels=list(d.levels),
            level=d.moderation.level,
            moderator=d.moderation.moderator,
            decided_at=d.moderation.decided_at,
            comment=d.moderation.comment,
        )
        for d in r.disagreements
        if d.moderation is not None
    ]
    dates = [m.finalized_at for m in r.markers if m.finalized_at] + [m.decided_at for m in mods]
    return MinutesCandidate(
        candidate=r.member.candidate,
        group=r.member.group_name,
        file=r.member.file_name,
        run_id=r.member.run_id,
        status=r.state_label,
        closed=r.closed,
        assessors=[m.assessor for m in r.markers],
        verdicts=r.verdicts,
        blocs=r.blocs,
        moderations=mods,
        decided_at=max(dates) if dates else None,
        error=r.member.error,
    )


# --- results for the certifier --------------------------------------------------------------------


def results_csv(minutes: Minutes, path: Path) -> None:
    """One row per candidate; every text cell a spreadsheet would run as a formula is neutralised."""
    comp_ids = [c for c, _ in minutes.competencies]
    bloc_ids = [b for b, _ in minutes.blocs]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv_safe.writer(f, delimiter=";")
        w.writerow(
            ["session", "module", "candidat", "groupe", "fichier", "etat"]
            + comp_ids
            + [f"bloc {b}" for b in bloc_ids]
            + ["correcteurs", "moderateurs", "date_decision"]
        )
        for c in minutes.candidates:
            w.writerow(
                [minutes.session, minutes.module, c.candidate, c.group, c.file, c.status]
                + [c.verdicts.get(x, "") for x in comp_ids]
                + [c.blocs.get(b, "") for b in bloc_ids]
                + [
                    " / ".join(c.assessors),
                    " / ".join(dict.fromkeys(m.moderator for m in c.moderations)),
                    fmt_datetime(c.decided_at, with_time=False) if c.decided_at else "",
                ]
            )


# --- minutes (procès-verbal) ----------------------------------------------------------------------


def minutes_docx(minutes: Minutes, path: Path, results_only: bool = False) -> None:
    """The session's procès-verbal (A4 landscape): every candidate's competency and bloc results,
    the moderation decisions with who decided and when, the rules applied and the signatures."""
    document = new_document(landscape=True)
    title = "Résultats de la session" if results_only else "Procès-verbal de la session"
    page_furniture(document, f"{title} — {minutes.session} — module {minutes.module}")
    document.add_heading(title, level=0)
    info = document.add_table(rows=0, cols=2)
    box_borders(info, "BFBFBF")
    set_widths(info, [Cm(4.5), usable_width(document) - Cm(4.5)])
    open_ = [c for c in minutes.candidates if not c.closed]
    rows = [
        ("Session", minutes.session),
        ("Référentiel", minutes.referentiel),
        ("Module", f"{minutes.module} — {minutes.module_title}"),
        ("Bloc(s)", " ; ".join(f"{b} — {t}" for b, t in minutes.blocs)),
        ("Correction", "double correction, désaccords modérés" if minutes.double_marking else "simple correction"),
        ("Candidats", f"{len(minutes.candidates)} dont {len(minutes.candidates) - len(open_)} dossier(s) clos"),
        ("Ouverte", f"{fmt_datetime(minutes.opened_at, with_time=False)} par {minutes.opened_by or 'cli'}"),
        ("Établi le", fmt_datetime(minutes.exported_at)),
    ]
    for key, value in rows:
        cells = info.add_row().cells
        shade(cells[0], _HEAD_FILL)
        add_run(cell_par(cells[0], first=True), key, bold=True, size=9)
        add_run(cell_par(cells[1], first=True), value, size=9)
    _rules(document, minutes)
    _results_table(document, minutes)
    if not results_only:
        _moderations(document, minutes)
    signature_block(
        document,
        [
            ("Le président du jury", ""),
            ("Les correcteurs", ", ".join(dict.fromkeys(a for c in minutes.candidates for a in c.assessors))),
        ],
    )
    document.save(str(path))


def _rules(document: object, minutes: Minutes) -> None:
    from docx.document import Document as DocxDocument

    assert isinstance(document, DocxDocument)
    par = document.add_paragraph()
    par.paragraph_format.space_before = Pt(6)
    add_run(par, "Règles appliquées : ", bold=True, size=9)
    add_run(par, f"{minutes.rule} {minutes.bloc_rule}", size=9)


def _results_table(document: object, minutes: Minutes) -> None:
    from docx.document import Document as DocxDocument

    assert isinstance(document, DocxDocument)
    heading = document.add_heading("Résultats par candidat", level=1)
    heading.paragraph_format.keep_with_next = True
    comp_ids = [c for c, _ in minutes.competencies]
    bloc_ids = [b for b, _ in minutes.blocs]
    headers = ["Candidat", *comp_ids, *[f"Bloc {b}" for b in bloc_ids], "Correcteur(s)", "État"]
    table = document.add_table(rows=1, cols=len(headers))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    box_borders(table, "8C8C8C")
    width = usable_width(document)
    fixed = Cm(5.0) + Cm(5.0) + Cm(2.6)
    each = int((width - fixed) / (len(comp_ids) + len(bloc_ids)))
    set_widths(table, [Cm(5.0)] + [each] * (len(comp_ids) + len(bloc_ids)) + [Cm(5.0), Cm(2.6)])
    for j, h in enumerate(headers):
        shade(table.cell(0, j), _HEAD_FILL)
        add_run(cell_par(table.cell(0, j), first=True), h, bold=True, size=8.5)
    for c in minutes.candidates:
        cells = table.add_row().cells
        add_run(cell_par(cells[0], first=True), c.candidate, bold=True, size=9)
        if c.group:
            add_run(cell_par(cells[0]), c.group, size=7.5)
        for j, cid in enumerate(comp_ids, start=1):
            add_run(cell_par(cells[j], first=True), c.verdicts.get(cid, "—"), size=8.5)
        for j, b in enumerate(bloc_ids, start=1 + len(comp_ids)):
            value = c.blocs.get(b, "—")
            add_run(cell_par(cells[j], first=True), value, bold=value != "—", size=8.5)
        add_run(cell_par(cells[-2], first=True), ", ".join(c.assessors) or "non affecté", size=8.5)
        status = c.status if c.error is None else f"{c.status} : {c.error}"
        add_run(cell_par(cells[-1], first=True), status, size=8 if c.error else 8.5)
    set_widths(table, [Cm(5.0)] + [each] * (len(comp_ids) + len(bloc_ids)) + [Cm(5.0), Cm(2.6)])
    repeat_header(table)
    legend = document.add_paragraph()
    add_run(
        legend,
        "Compétences : " + " ; ".join(f"{cid} — {_short(text)}" for cid, text in minutes.competencies),
        italic=True,
        size=7.5,
    )


def _short(text: str, words: int = 12) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _moderations(document: object, minutes: Minutes) -> None:
    from docx.document import Document as DocxDocument

    assert isinstance(document, DocxDocument)
    heading = document.add_heading("Décisions de modération", level=1)
    heading.paragraph_format.keep_with_next = True
    mods = [(c.candidate, m) for c in minutes.candidates for m in c.moderations]
    if not mods:
        text = (
            "Aucun désaccord entre correcteurs n’a demandé de modération."
            if minutes.double_marking
            else "Session en simple correction : pas de modération."
        )
        add_run(document.add_paragraph(), text, size=9)
        return
    headers = ["Candidat", "Critère", "Niveaux des correcteurs", "Niveau retenu", "Décidé par", "Date", "Motif"]
    table = document.add_table(rows=1, cols=len(headers))
    box_borders(table, "8C8C8C")
    widths: list[int] = [Cm(4.5), Cm(1.8), Cm(5.4), Cm(2.4), Cm(3.6), Cm(2.4), Cm(6.6)]
    set_widths(table, widths)
    for j, h in enumerate(headers):
        shade(table.cell(0, j), _HEAD_FILL)
        add_run(cell_par(table.cell(0, j), first=True), h, bold=True, size=8.5)
    for cand, m in mods:
        cells = table.add_row().cells
        values = [
            cand,
            m.criterion,
            ", ".join(f"{a} : {lv}" for a, lv in zip(m.assessors, m.levels, strict=False)),
            str(m.level),
            m.moderator,
            fmt_datetime(m.decided_at, with_time=False),
            m.comment or "—",
        ]
        for cell, v in zip(cells, values, strict=True):
            add_run(cell_par(cell, first=True), v, size=8.5)
    set_widths(table, widths)
    repeat_header(table)


# --- the grids of the jury ------------------------------------------------------------------------


def session_grid_doc(store: ReviewStore, minutes: Minutes, r: MemberResult) -> GridDoc:
    """The grid of a session dossier: its first run's grid, with the final (agreed or moderated)
    levels once closed; under double marking nothing of one assessor's levels before that."""
    assert r.member.run_id is not None
    doc = build_grid_doc(store, r.member.run_id)
    names = [m.assessor for m in r.markers]
    moderators = list(dict.fromkeys(d.moderation.moderator for d in r.disagreements if d.moderation))
    update: dict[str, object] = {
        "candidate_ref": r.member.candidate,
        "session": minutes.session,
        "markers": names,
        "moderators": moderators,
    }
    if r.closed:
        ref = store.referentiel(r.member.run_id)
        comps = []
        for block in doc.competencies:
            lines = []
            for line in block.criteria:
                f = r.final[line.id]
                lines.append(
                    line.model_copy(
                        update={
                            "confirmed_level": f.level,
                            "confirmed_label": ref.scale.label(f.level),
                            "comment": f.comment,
                            "assessor": f.decided_by + (" (modération)" if f.moderated else ""),
                            "decided_at": f.decided_at,
                            "agreed": line.suggested_level == f.level,
                        }
                    )
                )
            comps.append(block.model_copy(update={"criteria": lines, "confirmed_verdict": r.verdicts[block.id]}))
        finalized = [m.finalized_at for m in r.markers if m.finalized_at]
        mod_dates = [d.moderation.decided_at for d in r.disagreements if d.moderation]
        update |= {
            "competencies": comps,
            "blocs": [b.model_copy(update={"result": r.blocs.get(b.id)}) for b in doc.blocs],
            "locked": True,
            "finalized_by": " et ".join(names + moderators),
            "finalized_at": max(finalized + mod_dates),
        }
    elif minutes.double_marking:  # neither assessor's levels before both have finalized
        comps = [
            block.model_copy(
                update={
                    "confirmed_verdict": None,
                    "criteria": [
                        line.model_copy(
                            update={
                                "confirmed_level": None,
                                "confirmed_label": None,
                                "comment": "",
                                "assessor": None,
                                "decided_at": None,
                                "agreed": None,
                            }
                        )
                        for line in block.criteria
                    ],
                }
            )
            for block in doc.competencies
        ]
        update |= {"competencies": comps, "locked": False, "finalized_by": None, "finalized_at": None}
    return doc.model_copy(update=update)


def grids_docx(store: ReviewStore, minutes: Minutes, path: Path) -> None:
    """Every reviewed candidate's grid in one document, each starting on a page of its own."""
    _, results = session_results(store, minutes.session_id)
    docs = [session_grid_doc(store, minutes, r) for r in results if r.member.run_id]
    document = new_document(landscape=True)
    for i, doc in enumerate(docs):
        section = document.sections[0] if i == 0 else document.add_section(WD_SECTION.NEW_PAGE)
        write_grid(document, doc, section)
    if not docs:
        add_run(document.add_paragraph(), "Aucun dossier analysé dans cette session.")
    document.save(str(path))
