"""`dossier-review serve` and `dossier-review user add|assign|list|password` (wired in pipeline/cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.errors import ReviewError, StorageError

if TYPE_CHECKING:  # imported where used: `--help` must not load SQLAlchemy or pydantic (tests/test_cli_startup.py)
    from pipeline.db.accounts import AccountStore
    from pipeline.settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True)

user_app = typer.Typer(
    help="Comptes de l’espace web : créer, rattacher à un groupe, confier un dossier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataDirOpt = typer.Option(None, "--data-dir", help="Dossier des données (index, caches, base).")


def _settings(data_dir: Path | None) -> Settings:
    from pipeline.settings import Settings

    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _accounts(data_dir: Path | None) -> AccountStore:
    from pipeline.db.accounts import AccountStore
    from pipeline.db.store import ReviewStore

    settings = _settings(data_dir)
    settings.ensure_dirs()
    return AccountStore(ReviewStore(settings.db_url).session)


def _fail(e: ReviewError) -> typer.Exit:
    err.print(f"[bold red]Erreur :[/] {escape(e.user_message)}", highlight=False)
    return typer.Exit(e.exit_code)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: Path | None = None,
    trust_proxy: bool = False,
    workers: int | None = None,
) -> None:
    """Start the web workspace with uvicorn (one process; reviews run in a small thread pool)."""
    import uvicorn

    from pipeline.web.app import create_app
    from pipeline.web.state import WebOptions

    settings = _settings(data_dir)
    app = create_app(settings, WebOptions(trust_proxy=trust_proxy, workers=workers))
    where = escape(f"http://{host}:{port}/ — données : {settings.data_dir}")
    out.print(f"Espace de relecture : {where}", highlight=False)
    if not app.state.web.accounts.users():
        out.print(
            "Aucun compte : créez-en un, par ex. [bold]dossier-review user add admin --role admin --password-stdin[/]",
            highlight=False,
        )
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=False,  # the application reads them, from trusted proxies only (pipeline/web/proxies.py)
        log_level="info",
    )


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Adresse d’écoute."),
    port: int = typer.Option(8000, "--port", help="Port d’écoute."),
    trust_proxy: bool = typer.Option(
        False,
        "--trust-proxy",
        help="Derrière un proxy sur cette machine : croire X-Forwarded-For/Proto venant de 127.0.0.1 ou ::1 "
        "(adresse du client, cookies Secure). Proxy ailleurs : DOSSIER_REVIEW_TRUSTED_PROXIES=IP,réseau/CIDR.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=64, help="Analyses menées en parallèle (défaut : une par cœur, au plus 4)."
    ),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Lance l’espace web de relecture (évaluateurs, formateurs, candidats)."""
    serve(host, port, data_dir, trust_proxy=trust_proxy, workers=workers)


def _read_password(password: str | None, password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if password is not None:
        return password
    return str(typer.prompt("Mot de passe", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="Identifiant de connexion."),
    role: str = typer.Option(..., "--role", help="admin, assessor (évaluateur), trainer (formateur) ou candidate."),
    password: str | None = typer.Option(None, "--password", help="Mot de passe (visible dans l’historique du shell)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Lit le mot de passe sur l’entrée standard."),
    name: str = typer.Option("", "--name", help="Nom affiché (ex. « Claire Martin »)."),
    group: list[str] = typer.Option([], "--group", help="Groupe du formateur ou du candidat (créé s’il n’existe pas)."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Crée un compte ; le mot de passe est haché (argon2id)."""
    accounts = _accounts(data_dir)
    try:
        user = accounts.add_user(username, role.strip().lower(), _read_password(password, password_stdin), name)
        for g in group:
            accounts.add_member(accounts.group_by_name(g, create=True).id, user.id)
    except ReviewError as e:
        raise _fail(e) from None
    from pipeline.db.accounts import ROLE_LABELS

    groups = f", groupe(s) {', '.join(group)}" if group else ""
    out.print(f"Compte « {escape(user.username)} » créé : {ROLE_LABELS[user.role]}{escape(groups)}.", highlight=False)


@user_app.command("assign")
def user_assign(
    username: str = typer.Argument(..., help="Évaluateur, formateur ou candidat."),
    dossier: list[str] = typer.Option([], "--dossier", help="Identifiant de dossier à confier à l’évaluateur."),
    group: list[str] = typer.Option([], "--group", help="Groupe du formateur ou du candidat (créé s’il n’existe pas)."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Confie des dossiers à un évaluateur, ou rattache un formateur / un candidat à des groupes."""
    accounts = _accounts(data_dir)
    if not dossier and not group:
        raise _fail(StorageError("nothing to assign", "Indiquez --dossier ID (évaluateur) ou --group NOM."))
    try:
        user = accounts.user_by_name(username)
        for d in dossier:
            accounts.assign_dossier(d.strip(), user.id)
            out.print(f"Dossier {escape(d)} confié à {escape(user.username)}.", highlight=False)
        for g in group:
            accounts.add_member(accounts.group_by_name(g, create=True).id, user.id)
            out.print(f"{escape(user.username)} rattaché(e) au groupe « {escape(g)} ».", highlight=False)
    except ReviewError as e:
        raise _fail(e) from None


@user_app.command("password")
def user_password(
    username: str = typer.Argument(..., help="Identifiant du compte."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Lit le mot de passe sur l’entrée standard."),
    data_dir: Path | None = DataDirOpt,
) -> None:
    """Change le mot de passe d’un compte et ferme ses sessions ouvertes."""
    accounts = _accounts(data_dir)
    try:
        user = accounts.user_by_name(username)
        accounts.set_password(user.id, _read_password(None, password_stdin))
    except ReviewError as e:
        raise _fail(e) from None
    out.print(f"Mot de passe de « {escape(user.username)} » changé ; ses sessions sont fermées.", highlight=False)


@user_app.command("list")
def user_list(data_dir: Path | None = DataDirOpt) -> None:
    """Liste les comptes, leur rôle et leurs groupes."""
    from pipeline.db.accounts import ROLE_LABELS, ROLES

    accounts = _accounts(data_dir)
    table = Table(expand=False)
    for col in ("Identifiant", "Nom", "Rôle", "Groupes"):
        table.add_column(col)
    for u in accounts.users():
        table.add_row(
            escape(u.username),
            escape(u.display_name),
            ROLE_LABELS[u.role],
            escape(", ".join(g.name for g in accounts.groups_of(u.id))),
        )
    out.print(table)
    out.print(f"Rôles possibles : {', '.join(ROLES)}.")
