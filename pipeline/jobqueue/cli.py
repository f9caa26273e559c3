"""`dossier-review worker` and `dossier-review embed-server` (wired in pipeline/cli.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # imported where used: `--help` must not load pydantic (tests/test_cli_startup.py)
    from pipeline.settings import Settings

err = Console(stderr=True)


def _settings(data_dir: Path | None) -> Settings:
    from pipeline.settings import Settings

    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def worker_command(
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        "-c",
        min=1,
        max=64,
        help="Analyses en parallèle (défaut : une par cœur, au plus 4).",
    ),
    name: str | None = typer.Option(None, "--name", help="Nom du worker dans les journaux."),
    burst: bool = typer.Option(False, "--burst", help="S’arrêter quand la file est vide (tests, lots)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Dossier des données (index, caches)."),
) -> None:
    """Take review jobs from the PostgreSQL queue; SIGTERM finishes (or releases) the running ones."""
    import asyncio

    from pipeline.jobqueue.pgqueue import serve

    settings = _settings(data_dir)
    if not (settings.database_url or "").startswith("postgresql"):
        err.print(
            "[bold red]Erreur :[/] le worker partage la file PostgreSQL : définissez "
            "DOSSIER_REVIEW_DATABASE_URL=postgresql+psycopg://… (et DOSSIER_REVIEW_QUEUE=postgres côté serveur web).",
            highlight=False,
        )
        raise typer.Exit(2)
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("pipeline").setLevel(logging.INFO)
    settings.ensure_dirs()
    n = concurrency or settings.workers
    err.print(escape(f"Worker : {n} analyse(s) en parallèle, données : {settings.data_dir}"), highlight=False)
    asyncio.run(serve(settings, n, name=name, wait=not burst))


def embed_server_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Adresse d’écoute."),
    port: int = typer.Option(8088, "--port", help="Port d’écoute."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Dossier des données."),
) -> None:
    """Serve this machine's embedding model as an OpenAI-compatible `/v1/embeddings` endpoint."""
    import uvicorn

    from pipeline.jobqueue.embed_server import create_embed_app

    settings = _settings(data_dir)
    uvicorn.run(create_embed_app(settings.embedder), host=host, port=port, log_level="info")


def wire(app: typer.Typer, handles_errors: Callable[[Callable[..., None]], Callable[..., None]]) -> None:
    app.command("worker", help="Analyse les dossiers de la file PostgreSQL (sur cette machine ou une autre).")(
        handles_errors(worker_command)
    )
    app.command("embed-server", help="Sert le modèle d’embeddings aux workers (API OpenAI /v1/embeddings).")(
        handles_errors(embed_server_command)
    )
