"""Uploads: a body-size guard that answers 413 while the bytes stream in, and the saving of a file.

The guard counts the request body as it arrives (Content-Length when announced, then the real
bytes) and stops at the limit, so an oversized upload is never buffered whole. Cheap checks
(size, empty file, not a PDF/DOCX) answer at once; the full ingestion runs in the review job.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

from fastapi import HTTPException, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.errors import IngestError, TooLargeError, UnsupportedFormatError
from pipeline.ingest.sniff import sniff
from pipeline.settings import Settings

CHUNK = 1024 * 1024
MULTIPART_OVERHEAD = 1024 * 1024  # other form fields and part headers around the file


def too_large_message(max_bytes: int) -> str:
    return (
        f"Le fichier dépasse la taille maximale acceptée ({max_bytes / 1e6:.0f} Mo). Compressez les images "
        "ou retirez les annexes volumineuses, puis déposez-le à nouveau."
    )


def body_too_large_message(max_bytes: int) -> str:
    return f"Requête trop volumineuse (plus de {max_bytes / 1e6:.0f} Mo)."


class BodyLimit:
    """ASGI middleware: 413 as soon as a body exceeds its route's limit (uploads get the file limit)."""

    def __init__(
        self,
        app: ASGIApp,
        default_limit: int,
        upload_limit: int,
        is_upload: Callable[[str], bool],
        render: Callable[[str, str], tuple[bytes, str]],
    ) -> None:
        self.app, self.default_limit, self.upload_limit = app, default_limit, upload_limit
        self.is_upload, self.render = is_upload, render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        upload = self.is_upload(path)
        limit = self.upload_limit + MULTIPART_OVERHEAD if upload else self.default_limit
        message = too_large_message(self.upload_limit) if upload else body_too_large_message(self.default_limit)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._reject(path, message, send)
            return
        received = 0
        started = rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    rejected = True
                    if not started:
                        await self._reject(path, message, send)
                    return {"type": "http.disconnect"}
            return msg

        async def guarded_send(msg: Message) -> None:
            nonlocal started
            if rejected and not started:
                return  # the 413 is out; drop whatever the app answers to the disconnect
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not rejected:
                raise

    async def _reject(self, path: str, message: str, send: Send) -> None:
        body, ctype = self.render(path, message)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", ctype.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def json_error(message: str) -> tuple[bytes, str]:
    return json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8"), "application/json"


def safe_file_name(name: str | None) -> str:
    """The file's own name, without any path, control or odd characters, at most 120 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = re.sub(r"[^\w.\- ()'’,&+]", "_", base).strip(" .")
    if not base:
        return "dossier"
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 8:
        return f"{stem[:110]}.{ext}" if stem else f"dossier.{ext}"
    return base[:120]


async def save_upload(upload: UploadFile, target: Path, settings: Settings) -> None:
    """Copy the upload to `target`, 413 past the size limit; then sniff it (400/415 in French)."""
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > settings.max_file_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise HTTPException(413, too_large_message(settings.max_file_bytes))
            out.write(chunk)
    try:
        await run_in_threadpool(_sniff_file, target, settings)
    except IngestError as e:
        target.unlink(missing_ok=True)
        status = 413 if isinstance(e, TooLargeError) else 415 if isinstance(e, UnsupportedFormatError) else 400
        raise HTTPException(status, e.user_message) from e


def _sniff_file(path: Path, settings: Settings) -> None:
    sniff(path, path.read_bytes(), settings.max_unzipped_bytes)
