"""Command line: `dossier-review referentiel | parse | retrieve | review | eval`.

Commands hold no pipeline logic: they build Settings, call the stages and print.
A ReviewError becomes its French message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import gc
import json
import logging
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline import cli_fr
from pipeline.errors import ReviewError
from pipeline.textnorm import clip

if TYPE_CHECKING:
    from pipeline.db.store import ReviewStore
    from pipeline.referentiel import Referentiel
    from pipeline.settings import Settings

# Start-up: `--help` and every sub-command's help load typer and rich only. pydantic models,
# SQLAlchemy, chromadb, numpy... are imported inside the commands that use them
# (tests/test_cli_startup.py keeps it so).

cli_fr.install()
app = typer.Typer(
    help="dossier-review : pré-lecture des dossiers de certification (preuves citées, manques, note suggérée).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)
log = logging.getLogger("dossier_review")

F = TypeVar("F", bound=Callable[..., Any])

DataDirOpt = typer.Option(None, "--data-dir", help="Dossier des données (index, caches, base).")


@contextmanager
def loading() -> Iterator[None]:
    """Import a command's stack with the cyclic collector paused (see pipeline/__main__.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _settings(data_dir: Path | None, **overrides: Any) -> Settings:
    from pipeline.settings import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def _data_dir_hint(settings: Settings) -> str:
    """` --data-dir PATH` when the data live elsewhere than the default: hints must work as pasted."""
    from pipeline.settings import Settings

    default = Settings.model_fields["data_dir"].get_default(call_default_factory=True)
    if settings.data_dir.resolve() == Path(default).resolve():
        return ""
    return f" --data-dir {shlex.quote(str(settings.data_dir))}"


def _referentiel(settings: Settings) -> Referentiel:
    """The referentiel of new work (setting DOSSIER_REVIEW_REFERENTIEL); stored runs use their own."""
    from pipeline.referentiel import resolve_referentiel

    return resolve_referentiel(settings.referentiel)


def handles_errors(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        for noisy in ("bm25s", "chromadb", "httpx", "pypdf"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        try:
            return fn(*args, **kwargs)
        except ReviewError as e:
            log.info("%s: %s", type(e).__name__, e)
            err.print(f"[bold red]Erreur :[/] {escape(e.user_message)}", highlight=False)  # names files: not markup
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err.print("Interrompu.")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.command()
@handles_errors
def referentiel(
    module: str | None = typer.Option(None, "--module", "-m", help="M1, M2, M3 ou M4 ; tous par défaut."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Affiche la grille : compétences, critères et textes officiels."""
    ref = _referentiel(_settings(data_dir))
    comps = ref.competencies_for(module)
    if as_json:
        _print_json(
            {
                "referentiel": ref.title,
                "id": ref.id,
                "version": ref.version,
                "module": module.upper() if module else None,
                "scale": [lv.model_dump() for lv in ref.scale.levels],
                "competencies": [
                    {
                        "id": c.id,
                        "statement": c.statement,
                        "criteria": [{"id": k.id, "text": k.text, "preamble": k.preamble} for k in c.criteria],
                    }
                    for c in comps
                ],
            }
        )
        return
    title = ref.title + (f" — module {ref.modality(module).id} : {ref.modality(module).title}" if module else "")
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("Compétence", style="bold", max_width=28)
    table.add_column("Critère", no_wrap=True)
    table.add_column("Texte officiel", ratio=3)
    for c in comps:
        for i, k in enumerate(c.criteria):
            text = f"[dim]{k.preamble}[/]\n{k.text}" if k.preamble else k.text
            table.add_row(f"{c.id} — {c.statement[:90]}…" if i == 0 else "", k.id, text)
    out.print(table)
    n = sum(len(c.criteria) for c in comps)
    out.print(
        f"{len(comps)} compétences, {n} critères. Échelle : "
        + ", ".join(f"{lv.level} {lv.label}" for lv in ref.scale.levels)
    )


@app.command()
@handles_errors
def parse(
    file: Path = typer.Argument(..., help="Dossier PDF ou DOCX."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
    password: str | None = typer.Option(None, "--password", help="Mot de passe du PDF."),
    ocr: bool = typer.Option(False, "--ocr", help="Reconnaissance de caractères si le PDF n’a pas de texte."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Montre ce que l’outil a lu : sections, pages, blocs, segments, alertes."""
    from pipeline.chunking import chunk_dossier
    from pipeline.ingest import ingest

    settings = _settings(data_dir, ocr=ocr or None)
    dossier = ingest(file, settings, password=password)
    chunks = chunk_dossier(dossier, settings.chunk_size, settings.chunk_overlap)
    if as_json:
        _print_json(
            {
                "file": dossier.file,
                "format": dossier.format,
                "sha256": dossier.sha256,
                "pages": dossier.pages,
                "language": dossier.language,
                "blocks": [
                    {
                        "kind": b.kind,
                        "text": b.text,
                        "page": b.page,
                        "section": b.section,
                        "level": b.level,
                        "start": b.start,
                        "end": b.end,
                        **({"page_breaks": b.page_breaks} if b.page_breaks else {}),
                    }
                    for b in dossier.blocks
                ],
                "chunks": [c.model_dump(exclude={"dossier_sha256"}) for c in chunks],
                "findings": [f.model_dump() for f in dossier.findings],
            }
        )
        return
    out.print(
        f"[bold]{escape(dossier.file)}[/] — {dossier.format.upper()}, "
        f"{dossier.pages if dossier.pages is not None else '?'} page(s), langue : {dossier.language or '?'}"
    )
    out.print(f"{len(dossier.blocks)} blocs, {len(chunks)} segments, {len(dossier.text)} caractères")
    out.print(_kept_copy_note(dossier.sha256))
    for b in dossier.blocks:
        if b.kind == "heading":
            indent = "  " * ((b.level or 1) - 1)
            page = f"  [dim]p. {b.page}[/]" if b.page else ""
            out.print(f"{indent}• {escape(b.text)}{page}", highlight=False)
    kinds: dict[str, int] = {}
    for b in dossier.blocks:
        kinds[b.kind] = kinds.get(b.kind, 0) + 1
    out.print("Blocs : " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    if dossier.findings:
        out.print("[bold yellow]Constats :[/]")
        for f in dossier.findings:
            where = f" (p. {f.page})" if f.page else (f" ({' > '.join(f.section)})" if f.section else "")
            out.print(
                f"  [bold]{f.kind}[/]{escape(where)} {escape(f.detail)} « {escape(clip(f.text, 160))} »",
                highlight=False,
            )
    else:
        out.print("Aucun constat (pas de texte caché, langue française, fichier intact).")


@app.command()
@handles_errors
def retrieve(
    file: Path = typer.Argument(..., help="Dossier PDF ou DOCX."),
    criterion: str = typer.Option(..., "--criterion", "-c", help="Identifiant du critère, ex. C4.5."),
    k: int | None = typer.Option(None, "--k", help="Nombre de segments (défaut : réglage k)."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON."),
    password: str | None = typer.Option(None, "--password", help="Mot de passe du PDF."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Classe les segments du dossier qui traitent un critère, avec leurs scores."""
    from pipeline.chunking import chunk_dossier
    from pipeline.ingest import ingest
    from pipeline.noncontent import NonContent
    from pipeline.retrieve import DossierIndex, build_query

    settings = _settings(data_dir)
    settings.ensure_dirs()
    ref = _referentiel(settings)
    crit = ref.criteria_by_id.get(criterion.upper())
    if crit is None:
        raise ReviewError(f"unknown criterion {criterion}", f"Critère inconnu : « {criterion} » (ex. C4.5).")
    dossier = ingest(file, settings, password=password)
    chunks = chunk_dossier(dossier, settings.chunk_size, settings.chunk_overlap)
    index = DossierIndex(chunks, settings, labels=NonContent.of(dossier))
    # the ranking a review makes: the dense side is centred over the criterion's module (prepare)
    module = next((m.id for m in ref.modalities if crit.competency_id in m.competencies), None)
    index.prepare([build_query(ref, c) for c in (ref.criteria_for(module) if module else [crit])])
    hits = index.retrieve(build_query(ref, crit), k)
    if as_json:
        _print_json(
            {
                "file": dossier.file,
                "criterion": crit.id,
                "k": k or settings.k,
                "hits": [
                    {
                        "rank": h.rank,
                        "chunk_id": h.chunk.id,
                        "section": h.chunk.section_label,
                        "pages": h.chunk.pages,
                        "start": h.chunk.start,
                        "end": h.chunk.end,
                        "dense_score": h.dense_score,
                        "lexical_score": h.lexical_score,
                        "fused_score": h.fused_score,
                        "dense_rank": h.dense_rank,
                        "lexical_rank": h.lexical_rank,
                        "matched_terms": h.matched_terms,
                        "text": h.chunk.text,
                    }
                    for h in hits
                ],
            }
        )
        return
    out.print(f"[bold]{crit.id}[/] {escape(crit.text)}", highlight=False)
    table = Table(show_lines=True, expand=True)
    for col in ("#", "Section", "Pages", "Dense", "BM25", "Fusion", "Termes", "Extrait"):
        table.add_column(col, ratio=3 if col == "Extrait" else None)
    for h in hits:
        table.add_row(
            str(h.rank),
            escape(h.chunk.section_label),
            h.chunk.page_label,
            f"{h.dense_score:.3f}" if h.dense_score is not None else "—",  # labels only: not embedded
            f"{h.lexical_score:.2f}",
            f"{h.fused_score:.4f}",
            escape(", ".join(h.matched_terms[:6])),
            escape(clip(h.chunk.text, 220)),
        )
    out.print(table)
    out.print(_kept_copy_note(dossier.sha256))


def _kept_copy_note(sha256: str) -> str:
    return (
        f"[dim]SHA-256 {sha256} : lecture et index gardés en cache ; "
        f"pour les effacer : dossier-review erase --sha256 {sha256}[/]"
    )


@app.command()
@handles_errors
def review(
    file: Path = typer.Argument(..., help="Dossier PDF ou DOCX."),
    module: str = typer.Option(
        ..., "--module", "-m", help="Module du référentiel (M1 à M4 pour mdc-2023 ; voir dossier-review referentiel)."
    ),
    backend: str | None = typer.Option(
        None, "--backend", help="offline (défaut, local) ou openai (serveur compatible)."
    ),
    out_dir: Path | None = typer.Option(None, "--out", help="Dossier où écrire review.json et rapport.md."),
    as_json: bool = typer.Option(False, "--json", help="Écrit le JSON de l’analyse sur la sortie standard."),
    password: str | None = typer.Option(None, "--password", help="Mot de passe du PDF."),
    k: int | None = typer.Option(None, "--k", help="Segments retenus par critère."),
    candidate: str = typer.Option("", "--candidate", help="Référence du candidat (numéro, nom)."),
    assessor: str = typer.Option("", "--assessor", help="Qui lance l’analyse (journal d’audit)."),
    store_run: bool = typer.Option(True, "--store/--no-store", help="Enregistre l’analyse dans la base."),
    ocr: bool = typer.Option(False, "--ocr", help="Reconnaissance de caractères si le PDF n’a pas de texte."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Analyse un dossier : preuves citées, manques et niveau suggéré pour chaque critère du module."""
    with loading():
        from rich.progress import Progress as Bar

        from pipeline.db.store import ReviewStore
        from pipeline.reports.review_doc import review_json, review_markdown
        from pipeline.review import record_review, run_review
        from pipeline.settings import Settings  # noqa: F401  (loaded with the rest: _settings uses it)

    if backend not in (None, "offline", "openai"):
        raise ReviewError(f"unknown backend {backend}", f"Moteur inconnu « {backend} » : offline ou openai.")
    settings = _settings(data_dir, backend=backend, k=k, ocr=ocr or None)
    ref = _referentiel(settings)
    with Bar(console=err, transient=True, disable=as_json and not sys.stderr.isatty()) as bar:
        task = bar.add_task("analyse", total=6)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=step)

        outcome = run_review(file, module, settings, ref, password=password, progress=progress)
    result = outcome.review
    data = review_json(result, ref)
    if store_run:
        recorded = record_review(
            ReviewStore(settings.db_url), file, outcome, ref, settings, actor=assessor or "cli", candidate_ref=candidate
        )
        data["dossier_id"] = recorded.dossier_id
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "review.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        (out_dir / "rapport.md").write_text(review_markdown(result, ref), encoding="utf-8")
    if as_json:
        _print_json(data)
        return
    for w in result.warnings:
        out.print(f"[bold red]⚠ {escape(w)}[/]", highlight=False)
    table = Table(title=f"{escape(result.file)} — module {result.module} (pré-lecture, à confirmer)", expand=True)
    for col in ("Critère", "Niveau", "Confiance", "Preuves", "Statut / signalements"):
        table.add_column(col)
    for d in result.criteria:
        label = ref.scale.label(d.level) if d.level is not None else "?"
        table.add_row(
            d.criterion_id,
            f"{d.level} {label}",
            f"{d.confidence:.0%}",
            str(len(d.evidence)),
            escape("; ".join([d.status, *d.flags]) if d.status != "suggested" or d.flags else ""),
        )
    out.print(table)
    out.print("Compétences : " + ", ".join(f"{c.id} {c.verdict}" for c in result.competencies))
    prov = result.provenance
    if prov.tokens_in or prov.cached_answers:
        out.print(
            f"Modèle : {prov.tokens_in} jetons envoyés, {prov.tokens_out} reçus, "
            f"{prov.cached_answers} réponse(s) reprise(s) du cache, coût estimé {prov.estimated_cost}"
        )
    out.print(f"Analyse n° {result.run_id}" + (f" — écrite dans {escape(str(out_dir))}" if out_dir else ""))
    if store_run:
        hint = f'dossier-review confirm {result.run_id} --assessor "Prénom Nom"{_data_dir_hint(settings)}'
        out.print(f"Enregistrée : dossier {data['dossier_id']}. Suite : {escape(hint)}", highlight=False)
        out.print(result.run_id)


@app.command("eval")
@handles_errors
def eval_cmd(
    folder: Path = typer.Argument(..., help="Dossier étiqueté (une sous-partie par dossier avec gold.json)."),
    backend: str | None = typer.Option(None, "--backend", help="offline ou openai."),
    k: int = typer.Option(8, "--k", help="Segments retenus par critère."),
    out_file: Path | None = typer.Option(None, "--out", help="Fichier JSON des résultats (un .md est écrit à côté)."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Mesure la qualité sur des dossiers étiquetés : rappel des preuves, ancrage, accord des notes."""
    from evals.harness import markdown_table, run_eval

    if not folder.is_dir():
        raise ReviewError(f"{folder}: not a folder", f"« {folder} » n’est pas un dossier de cas étiquetés.")
    settings = _settings(data_dir, backend=backend, k=k)
    settings.ensure_dirs()
    result = run_eval(
        folder, settings, _referentiel(settings), k, log=lambda m: err.print(m, highlight=False, markup=False)
    )
    table = markdown_table(result)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        out_file.with_suffix(".md").write_text(table, encoding="utf-8")
    out.print(table, markup=False, highlight=False)


def _store(data_dir: Path | None) -> tuple[Settings, ReviewStore]:
    from pipeline.db.store import ReviewStore

    settings = _settings(data_dir)
    settings.ensure_dirs()
    return settings, ReviewStore(settings.db_url)


STATUS_FR = {"suggested": "suggestion", "à revoir": "à revoir"}


def _shared_referentiel(store: ReviewStore, run_ids: list[str]) -> Referentiel:
    """The one referentiel of several runs; runs made under different ones are not compared."""
    hashes = {store.run(rid).referentiel_hash for rid in run_ids}
    if len(hashes) > 1:
        raise ReviewError(
            "runs of different referentiels",
            "Ces analyses relèvent de référentiels différents : comparez-les référentiel par référentiel.",
        )
    return store.referentiel(run_ids[0])


@app.command()
@handles_errors
def decide(
    run_id: str = typer.Argument(..., help="Identifiant de l’analyse."),
    criterion: str = typer.Argument(..., help="Critère, ex. C4.5."),
    level: int = typer.Option(..., "--level", help="Niveau retenu par l’évaluateur."),
    assessor: str = typer.Option(..., "--assessor", help="Nom de l’évaluateur."),
    comment: str = typer.Option("", "--comment", help="Commentaire."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Enregistre la décision de l’évaluateur pour un critère (forme non interactive)."""
    _, store = _store(data_dir)
    ref = store.referentiel(run_id)
    d = store.decide(run_id, criterion.upper(), level, assessor, comment)
    agreed = "conforme à la suggestion" if d.agreed else f"suggestion {d.suggested_level} modifiée"
    out.print(f"{d.criterion_id} : niveau {d.level} ({ref.scale.label(d.level)}) par {escape(d.assessor)} — {agreed}")


@app.command()
@handles_errors
def finalize(
    run_id: str = typer.Argument(..., help="Identifiant de l’analyse."),
    assessor: str = typer.Option(..., "--assessor", help="Nom de l’évaluateur qui valide."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Valide et verrouille la grille ; refuse tant qu’un critère n’est pas décidé."""
    _, store = _store(data_dir)
    grid = store.finalize(run_id, assessor)
    out.print(
        f"Grille validée et verrouillée par {escape(assessor)}. Verdicts : "
        + ", ".join(f"{k} {v}" for k, v in grid.verdicts.items())
    )


@app.command()
@handles_errors
def confirm(
    run_id: str = typer.Argument(..., help="Identifiant de l’analyse."),
    assessor: str = typer.Option(..., "--assessor", prompt="Votre nom", help="Nom de l’évaluateur."),
    doubtful_first: bool = typer.Option(
        False, "--doubtful-first", help="Présente d’abord les critères les moins sûrs (confiance la plus basse)."
    ),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Parcourt les critères dans le terminal : accepter, changer le niveau, commenter (reprise possible)."""
    from pipeline.reports.confidence import confidence_label
    from pipeline.reports.wording import TO_VERIFY

    settings, store = _store(data_dir)
    ref = store.referentiel(run_id)
    run = store.run(run_id)
    review = store.review(run_id)
    if store.grid(run_id).locked:
        raise ReviewError(f"run {run_id} locked", "Cette grille est déjà validée et verrouillée.")
    for w in run.warnings or []:
        out.print(f"[bold red]⚠ {escape(w)}[/]")
    decided = store.decisions(run_id)
    todo = [s for s in review.criteria if s.criterion_id not in decided]
    if doubtful_first:
        todo.sort(key=lambda s: (s.level is not None, s.confidence))
    scale = ref.scale
    levels = ", ".join(f"{lv.level} = {lv.label}" for lv in scale.levels)
    keys = escape(f"[a] accepter la suggestion, [{scale.min_level}-{scale.max_level}] niveau, [c] commenter, ")
    keys += escape("[s] passer, [q] quitter")
    out.print(f"{len(decided)} critère(s) déjà décidé(s), {len(todo)} à traiter. {keys}.", highlight=False)
    out.print(f"Échelle : {escape(levels)}.", highlight=False)
    for i, s in enumerate(todo, 1):
        crit = ref.criteria_by_id[s.criterion_id]
        out.rule(f"{s.criterion_id} ({i}/{len(todo)})")
        out.print(escape(crit.label))
        label = scale.label(s.level) if s.level is not None else "aucune"
        careful = s.confidence < settings.confident_at
        status = STATUS_FR.get(s.status, s.status) + (" — à lire attentivement" if careful else "")
        out.print(
            f"[bold]Suggestion :[/] {s.level if s.level is not None else '—'} ({escape(label)}), "
            f"{confidence_label(s.confidence)} — {escape(status)}",
            highlight=False,
        )
        out.print(escape(s.rationale))
        for e in s.evidence:
            where = f"p. {e.page}" if e.page else e.section
            check = f" — [yellow]{TO_VERIFY}[/]" if e.to_verify else ""
            out.print(f"  « {escape(clip(e.quote, 300))} » — {escape(where)}{check}", highlight=False)
        for m in s.missing:
            out.print(f"  [yellow]Manque :[/] {escape(m)}", highlight=False)
        comment = ""
        while True:
            choice = typer.prompt("Décision", default="a" if s.level is not None else "s").strip().lower()
            if choice == "q":
                out.print("Interrompu : relancez la même commande pour reprendre.")
                return
            if choice == "s":
                out.print("Critère passé, sans décision.")
                break
            if choice == "c":
                comment = typer.prompt("Commentaire", default=comment)
                continue
            level = s.level if choice == "a" else (int(choice) if choice.lstrip("-").isdigit() else None)
            if level is None or not scale.min_level <= level <= scale.max_level:
                hint = "pas de suggestion à accepter : " if choice == "a" else ""
                out.print(f"Réponse non comprise ({hint}{keys}). Échelle : {escape(levels)}.", highlight=False)
                continue
            d = store.decide(run_id, s.criterion_id, level, assessor, comment)
            agreed = "conforme à la suggestion" if d.agreed else "suggestion modifiée"
            out.print(
                f"[green]Enregistré :[/] {d.criterion_id} niveau {d.level} ({escape(scale.label(d.level))}), {agreed}"
                + (" avec commentaire." if d.comment else "."),
                highlight=False,
            )
            break
    left = len(review.criteria) - len(store.decisions(run_id))
    out.print(
        f"Terminé. Reste {left} critère(s) sans décision."
        if left
        else "Tous les critères sont décidés : "
        + escape(f'dossier-review finalize {run_id} --assessor "{assessor}"{_data_dir_hint(settings)}')
    )


@app.command()
@handles_errors
def erase(
    dossier_id: str | None = typer.Argument(None, help="Identifiant du dossier (affiché par review)."),
    sha256: str | None = typer.Option(
        None,
        "--sha256",
        help="Tout ce qui dérive de ce fichier, enregistré ou non (parse, retrieve, analyse interrompue).",
    ),
    actor: str = typer.Option("cli", "--by", help="Qui demande l’effacement (journal d’audit)."),
    yes: bool = typer.Option(False, "--yes", help="Ne pas demander de confirmation."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Efface un dossier (RGPD) : texte, segments, vecteurs, caches, analyses, décisions et fichier."""
    from pipeline.erasure import check_sha256, erase_dossier, erase_file

    if (dossier_id is None) == (sha256 is None):
        raise ReviewError("erase: dossier id xor --sha256", "Indiquez un identifiant de dossier ou --sha256 EMPREINTE.")
    settings, store = _store(data_dir)
    what = f"le dossier {dossier_id}" if dossier_id else f"le fichier d’empreinte {check_sha256(sha256 or '')}"
    if not yes and not typer.confirm(f"Effacer définitivement {what} et tout ce qui en dérive ?"):
        raise typer.Exit(1)
    if dossier_id is not None:
        n = erase_dossier(store, settings, dossier_id, actor)
        out.print(f"Dossier {escape(dossier_id)} effacé ({n} analyse(s)). Une ligne d’audit anonymisée est conservée.")
        return
    dossiers, runs = erase_file(store, settings, sha256 or "", actor)
    out.print(
        f"Fichier {check_sha256(sha256 or '')[:12]}… effacé : {dossiers} dossier(s), {runs} analyse(s), "
        "copies de lecture et index supprimés."
    )


@app.command()
@handles_errors
def purge(
    days: int | None = typer.Option(
        None, "--days", min=1, help="Durée de conservation en jours (défaut : DOSSIER_REVIEW_RETENTION_DAYS)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Ne pas demander de confirmation."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Efface les dossiers déposés depuis plus de N jours et les copies de fichiers jamais enregistrés."""
    from pipeline.erasure import purge as run_purge

    settings, store = _store(data_dir)
    keep = days or settings.retention_days
    if not keep:
        raise ReviewError(
            "no retention", "Aucune durée de conservation : --days N ou DOSSIER_REVIEW_RETENTION_DAYS=N (jours)."
        )
    if not yes and not typer.confirm(f"Effacer définitivement ce qui a plus de {keep} jour(s) ?"):
        raise typer.Exit(1)
    done = run_purge(store, settings, keep, actor=f"conservation {keep} j")
    out.print(
        f"Conservation {keep} jour(s) : {done.dossiers} dossier(s) et {done.runs} analyse(s) effacés, "
        f"{done.unattached} fichier(s) jamais enregistrés nettoyés (cache de lecture, index)."
    )


@app.command("compact-index")
@handles_errors
def compact_index(
    path: Path = typer.Argument(..., help="Dossier des données de chromadb (celui de `chroma run --path`)."),
) -> None:
    """Rend illisibles les vecteurs effacés d’un serveur chromadb partagé ; à lancer sur sa machine."""
    from pipeline.store import compact_index_dir

    compact_index_dir(path)
    out.print(f"Index compacté : {escape(str(path))} (collections effacées retirées des fichiers).")


@app.command()
@handles_errors
def export(
    run_id: str = typer.Argument(..., help="Identifiant de l’analyse."),
    fmt: str = typer.Option(..., "--format", help="docx, html ou json."),
    kind: str = typer.Option("grid", "--kind", help="grid (grille d’évaluation) ou feedback (retour au candidat)."),
    out_file: Path = typer.Option(..., "--out", help="Fichier à écrire."),
    levels: bool = typer.Option(False, "--levels", help="Retour candidat : afficher les niveaux confirmés."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Exporte la grille d’évaluation ou le retour formatif au candidat."""
    from pipeline.reports.feedback import feedback_docx, feedback_html, feedback_json
    from pipeline.reports.grid import grid_docx, grid_html
    from pipeline.reports.grid_data import build_grid_doc

    if fmt not in ("docx", "html", "json") or kind not in ("grid", "feedback"):
        raise ReviewError(f"bad export {fmt}/{kind}", "Formats : docx, html, json ; types : grid, feedback.")
    settings, store = _store(data_dir)
    doc = build_grid_doc(store, run_id)
    org = settings.organisation
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if kind == "grid":
        if fmt == "docx":
            grid_docx(doc, out_file)
        elif fmt == "html":
            out_file.write_text(grid_html(doc), encoding="utf-8")
        else:
            out_file.write_text(doc.model_dump_json(indent=2), encoding="utf-8")
    elif fmt == "docx":
        feedback_docx(doc, out_file, show_levels=levels, organisation=org)
    elif fmt == "html":
        out_file.write_text(feedback_html(doc, show_levels=levels, organisation=org), encoding="utf-8")
    else:
        out_file.write_text(
            json.dumps(feedback_json(doc, show_levels=levels, organisation=org), ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
    state = "validée" if doc.locked else "NON validée (brouillon)"
    out.print(f"Écrit : {escape(str(out_file))} ({'grille' if kind == 'grid' else 'retour candidat'}, {state})")


@app.command()
@handles_errors
def cohort(
    run_ids: list[str] = typer.Argument(..., help="Analyses des candidats du groupe."),
    out_dir: Path = typer.Option(..., "--out", help="Dossier où écrire heatmap.png, cohort.csv, most_missed.csv."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Vue de cohorte pour le formateur : critères × candidats et critères les plus manqués."""
    from pipeline.reports.cohort import CohortRow, cohort_markdown
    from pipeline.reports.cohort import cohort as make_cohort
    from pipeline.reports.grid_data import build_grid_doc

    _, store = _store(data_dir)
    ref = _shared_referentiel(store, run_ids)
    rows = [CohortRow.from_grid(build_grid_doc(store, rid)) for rid in run_ids]
    result = make_cohort(rows, ref, out_dir)
    text = cohort_markdown(result)
    (out_dir / "cohorte.md").write_text(text, encoding="utf-8")
    out.print(text, markup=False, highlight=False)


@app.command()
@handles_errors
def agreement(
    run_ids: list[str] = typer.Argument(None, help="Analyses à prendre (défaut : toutes les grilles validées)."),
    out_file: Path | None = typer.Option(None, "--out", help="Rapport Markdown à écrire."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Accord entre suggestions et décisions des évaluateurs : exact, ±1, kappa, par critère."""
    from pipeline.reports.agreement import AgreementPair, agreement_markdown
    from pipeline.reports.agreement import agreement as make_agreement

    settings, store = _store(data_dir)
    if not run_ids:  # every validated grid made under the current referentiel
        current = _referentiel(settings).ref
        run_ids = [rid for rid in store.confirmed_runs() if store.run(rid).referentiel == current]
    ref = _shared_referentiel(store, run_ids) if run_ids else _referentiel(settings)
    pairs = []
    for rid in run_ids:
        for cid, d in store.decisions(rid).items():
            pairs.append(AgreementPair(rid, cid, d.suggested_level, d.level))
    if not pairs:
        raise ReviewError("no decisions", "Aucune décision d’évaluateur enregistrée : rien à comparer.")
    text = agreement_markdown(make_agreement(pairs, ref))
    if out_file:
        out_file.write_text(text, encoding="utf-8")
    out.print(text, markup=False, highlight=False)


def _wire_web() -> None:
    from pipeline.web.cli import serve_command, user_app

    app.command("serve", help="Lance l’espace web de relecture (évaluateurs, candidats, formateurs).")(
        handles_errors(serve_command)
    )
    app.add_typer(user_app, name="user", help="Comptes : ajout, affectation, mot de passe.")


_wire_web()
from pipeline.jobqueue.cli import wire as _wire_queue  # noqa: E402  (worker, embed-server)

_wire_queue(app, handles_errors)
from pipeline.sessions_cli import session_app  # noqa: E402  (the sub-app imports this module's helpers)

app.add_typer(session_app, name="session", help="Sessions : analyse en lot, double correction, procès-verbal.")
