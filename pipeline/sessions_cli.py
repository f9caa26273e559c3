"""`dossier-review session create | add | status | assign | moderate | export` (wired in pipeline/cli.py).

Commands hold no session logic: they call `pipeline.sessions` and the report builders, and print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.cli import _print_json, _referentiel, _store, err, handles_errors, out
from pipeline.errors import ReviewError

if TYPE_CHECKING:
    from pipeline.db.store import ReviewStore

session_app = typer.Typer(
    help="Sessions de certification : analyse en lot, affectation, double correction, procès-verbal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataDirOpt = typer.Option(None, "--data-dir", help="Dossier des données (index, caches, base).")
OUTCOME_FR = {
    "reviewed": "analysé",
    "reused": "repris",
    "skipped": "déjà fait",
    "queued": "en file",
    "failed": "ERREUR",
}


@session_app.command("create")
@handles_errors
def create(
    name: str = typer.Argument(..., help="Nom de la session, ex. « MDC juin 2027 »."),
    module: str = typer.Option(..., "--module", "-m", help="Module évalué (M1, M2…)."),
    double_marking: bool = typer.Option(False, "--double-marking", help="Deux correcteurs indépendants par dossier."),
    by: str = typer.Option("", "--by", help="Qui ouvre la session (journal d’audit)."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Ouvre une session ; affiche son identifiant en dernier."""
    from pipeline.db.sessions import SessionStore

    settings, store = _store(data_dir)
    ref = _referentiel(settings)
    module = ref.modality(module).id
    sid = SessionStore(store).create(name, module, ref.ref, double_marking, by or "cli")
    mode = "double correction" if double_marking else "simple correction"
    out.print(f"Session « {escape(name)} » ouverte : module {module}, {mode}. Suite : dossier-review session add {sid}")
    out.print(sid)


@session_app.command("add")
@handles_errors
def add(
    session_id: str = typer.Argument(..., help="Identifiant de la session."),
    manifest: Path = typer.Argument(..., help="CSV : candidate,file[,group][,assessor]."),
    by: str = typer.Option("", "--by", help="Qui lance l’analyse (journal d’audit)."),
    wait: bool = typer.Option(
        False, "--wait", help="Avec une file PostgreSQL : suivre les analyses des workers jusqu’à la dernière."
    ),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Analyse tous les dossiers du manifeste (reprend là où un lot interrompu s’est arrêté).

    Avec DOSSIER_REVIEW_QUEUE=postgres, chaque dossier à analyser part dans la file des workers
    (`dossier-review worker`), comme un dépôt isolé ; `session status` suit leur avancement."""
    from pipeline.sessions import BatchItem, add_manifest

    settings, store = _store(data_dir)
    ref = _referentiel(settings)
    runner = None
    if settings.queue == "postgres":
        from pipeline.web.jobs import JobRunner

        runner = JobRunner(store, settings, ref)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("reste"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("analyse", total=None)

        def started(i: int, total: int, label: str) -> None:
            bar.update(task, total=total, completed=i, description=f"{escape(label)[:40]}")

        def finished(item: BatchItem) -> None:
            bar.advance(task)
            if item.outcome == "failed":
                bar.console.print(
                    f"[red]✗ {escape(item.candidate or '?')} — {escape(item.file)} : {escape(item.message)}[/]",
                    highlight=False,
                )

        try:
            submit = runner.submit_file if runner is not None else None
            report = add_manifest(
                store, session_id, manifest, settings, ref, by or "cli", started, finished, submit=submit
            )
        finally:
            if runner is not None:
                runner.shutdown()
    table = Table(title="Lot de la session", expand=True)
    for col in ("Candidat", "Fichier", "Résultat", "Détail"):
        table.add_column(col)
    for item in report.items:
        table.add_row(escape(item.candidate), escape(item.file), OUTCOME_FR[item.outcome], escape(item.message))
    out.print(table)
    out.print(
        f"{report.count('reviewed')} analysé(s), {report.count('reused')} repris, {report.count('skipped')} déjà "
        f"fait(s), {report.count('queued')} en file, {len(report.failed)} en erreur."
        + (" Corrigez les fichiers en erreur puis relancez la même commande." if report.failed else "")
    )
    if report.count("queued"):
        if wait:
            _follow(store, session_id)
        else:
            out.print(
                f"Les dossiers en file sont analysés par les workers (dossier-review worker) ; "
                f"avancement : dossier-review session status {session_id}"
            )


def _follow(store: ReviewStore, session_id: str, every: float = 2.0) -> None:
    """Show the queued reviews' progress until none is waiting or running (Ctrl-C leaves them queued)."""
    import time

    from pipeline.sessions import status_json

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
        task = bar.add_task("analyses des workers", total=None)
        while True:
            data = status_json(store, session_id)
            waiting = sum(1 for d in data["dossiers"] if d["progress"] is not None)
            bar.update(task, total=len(data["dossiers"]), completed=len(data["dossiers"]) - waiting)
            if not waiting:
                break
            time.sleep(every)
    out.print(f"Lot terminé : dossier-review session status {session_id}")


@session_app.command("status")
@handles_errors
def status(
    session_id: str = typer.Argument(..., help="Identifiant de la session."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Où en est chaque dossier : analyse, correcteurs, désaccords, verdicts."""
    from pipeline.sessions import status_json

    _, store = _store(data_dir)
    data = status_json(store, session_id)
    if as_json:
        _print_json(data)
        return
    mode = "double correction" if data["double_marking"] else "simple correction"
    table = Table(title=f"{escape(data['session'])} — module {data['module']} ({mode})", expand=True)
    for col in ("Candidat", "Fichier", "État", "Correcteur(s)", "Résultat"):
        table.add_column(col)
    for d in data["dossiers"]:
        who = ", ".join(f"{a['name']}{' ✓' if a['finalized'] else ''}" for a in d["assessors"]) or "—"
        state = d["status"]
        if d["progress"] and d["status"] == "en cours":
            state += f" — {d['progress']['step']} ({d['progress']['percent']} %)"
        if d["error"]:
            result = d["error"]
        elif d["disagreements"]:
            left = [x["criterion"] for x in d["disagreements"] if not x["moderated"]]
            result = f"désaccords à modérer : {', '.join(left)}" if left else "désaccords modérés"
        else:
            result = ""
        if d["blocs"]:
            result = (result + " " if result else "") + ", ".join(f"bloc {b} {v}" for b, v in d["blocs"].items())
        table.add_row(escape(d["candidate"]), escape(d["file"]), escape(state), escape(who), escape(result))
    out.print(table)
    out.print(", ".join(f"{n} {label}" for label, n in data["counts"].items()) or "Aucun dossier.")


@session_app.command("assign")
@handles_errors
def assign(
    session_id: str = typer.Argument(..., help="Identifiant de la session."),
    assessors: list[str] = typer.Option(..., "--assessor", "-a", help="Évaluateur (répéter l’option)."),
    candidate: str | None = typer.Option(
        None, "--candidate", help="Ce dossier seulement (sinon : tous les dossiers sans correcteur, à tour de rôle)."
    ),
    by: str = typer.Option("", "--by", help="Qui affecte (journal d’audit)."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Affecte les correcteurs : à un dossier, ou à tour de rôle à tous ceux qui n’en ont pas."""
    from pipeline.db.sessions import SessionStore
    from pipeline.sessions import assign as assign_member
    from pipeline.sessions import assign_in_turn

    settings, store = _store(data_dir)
    if candidate is not None:
        member = SessionStore(store).find_member(session_id, candidate)
        rows = assign_member(store, settings, member.id, [(a, None) for a in assessors], by or "cli")
        for r in rows:
            out.print(f"{escape(member.candidate)} : correcteur {r.rank} {escape(r.assessor)} — analyse {r.run_id}")
        return
    done = assign_in_turn(store, settings, session_id, [(a, None) for a in assessors], by or "cli")
    for cand, names in done:
        out.print(f"{escape(cand)} : {escape(', '.join(names))}")
    out.print(f"{len(done)} dossier(s) affecté(s).")


@session_app.command("moderate")
@handles_errors
def moderate(
    session_id: str = typer.Argument(..., help="Identifiant de la session."),
    candidate: str | None = typer.Option(None, "--candidate", help="Candidat (nom ou identifiant du dossier)."),
    criterion: str | None = typer.Option(None, "--criterion", help="Critère en désaccord, ex. C4.5."),
    level: int | None = typer.Option(None, "--level", help="Niveau retenu par le modérateur."),
    moderator: str = typer.Option("", "--moderator", help="Nom du modérateur (ni l’un ni l’autre correcteur)."),
    comment: str = typer.Option("", "--comment", help="Motif de la décision."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Sans --criterion : liste les désaccords ; avec : enregistre la décision du modérateur."""
    from pipeline.sessions import moderate as do_moderate
    from pipeline.sessions import session_results

    _, store = _store(data_dir)
    if criterion is None:
        _, results = session_results(store, session_id)
        table = Table(title="Désaccords entre correcteurs", expand=True)
        for col in ("Candidat", "Critère", "Niveaux", "Décision"):
            table.add_column(col)
        n = 0
        for r in results:
            if candidate and candidate not in (r.member.candidate, r.member.id):
                continue
            for d in r.disagreements:
                n += 1
                levels = " / ".join(f"{a} : {lv}" for a, lv in zip(d.assessors, d.levels, strict=True))
                decided = f"{d.moderation.level} par {d.moderation.moderator}" if d.moderation else "à modérer"
                table.add_row(escape(r.member.candidate), d.criterion_id, escape(levels), escape(decided))
        out.print(table if n else "Aucun désaccord à modérer (les grilles doivent d’abord être validées).")
        return
    if candidate is None or level is None:
        raise ReviewError("moderate: missing options", "Indiquez --candidate, --criterion, --level et --moderator.")
    m = do_moderate(store, session_id, candidate, criterion.upper(), level, moderator, comment)
    out.print(f"{m.criterion_id} : niveau {m.level} retenu par {escape(m.moderator)} (correcteurs : {m.levels}).")


@session_app.command("export")
@handles_errors
def export(
    session_id: str = typer.Argument(..., help="Identifiant de la session."),
    kind: str = typer.Option(
        "minutes", "--kind", help="minutes (procès-verbal), results (résultats) ou grids (grilles)."
    ),
    fmt: str = typer.Option("docx", "--format", help="docx, csv ou json (grids : docx)."),
    out_file: Path = typer.Option(..., "--out", help="Fichier à écrire."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Exporte le procès-verbal, les résultats pour le certificateur ou les grilles du jury."""
    from pipeline.reports import session_docs

    if (
        kind not in ("minutes", "results", "grids")
        or fmt not in ("docx", "csv", "json")
        or (kind == "grids" and fmt != "docx")
    ):
        raise ReviewError(
            f"bad export {kind}/{fmt}",
            "Types : minutes, results (docx, csv, json) ; grids (docx).",
        )
    _, store = _store(data_dir)
    minutes = session_docs.build_minutes(store, session_id)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if kind == "grids":
        session_docs.grids_docx(store, minutes, out_file)
    elif fmt == "docx":
        session_docs.minutes_docx(minutes, out_file, results_only=kind == "results")
    elif fmt == "csv":
        session_docs.results_csv(minutes, out_file)
    else:
        data = minutes.model_dump(mode="json")
        out_file.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    open_ = sum(1 for c in minutes.candidates if not c.closed)
    state = f" ; {open_} dossier(s) non clos (mentionnés comme tels)" if open_ else ""
    out.print(f"Écrit : {escape(str(out_file))} ({len(minutes.candidates)} candidat(s){state})")
