"""One exception hierarchy; every message says what happened and what to do.

`user_message` is French (shown to assessors and candidates); `str(exc)` is the
English log message.
"""

from __future__ import annotations


class ReviewError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code = 2

    def __init__(self, log_message: str, user_message: str | None = None) -> None:
        super().__init__(log_message)
        self.user_message = user_message or log_message


class ReferentielError(ReviewError):
    """A referentiel, scale or indicator file is malformed."""


class IngestError(ReviewError):
    """A dossier file cannot be read."""


class UnsupportedFormatError(IngestError):
    """The bytes are neither PDF nor DOCX, whatever the extension says."""


class EmptyFileError(IngestError):
    """The file has no bytes, or no text at all."""


class TooLargeError(IngestError):
    """The file exceeds a configured limit (bytes, pages, characters, decompressed size)."""


class EncryptedError(IngestError):
    """The file is protected by a password that was not given or is wrong."""


class NoTextLayerError(IngestError):
    """The PDF has pages but no extractable text (scanned)."""


class DamagedFileError(IngestError):
    """The file is damaged beyond recovery."""


class RetrievalError(ReviewError):
    """The index or the embedding model failed."""


class DraftError(ReviewError):
    """A drafting backend failed in a way that stops the run."""


class PromptError(ReviewError):
    """A prompt template is missing or its placeholders do not match."""


class StorageError(ReviewError):
    """The review database refused an operation."""
