"""French names of internal values shown to users (no English identifier reaches a page)."""

from __future__ import annotations

BACKEND_LABELS = {
    "offline": "pré-lecture locale, sans modèle génératif",
    "openai": "modèle de langage distant",
}


def backend_label(backend: str) -> str:
    """`offline` → « pré-lecture locale, sans modèle génératif »; an unknown value is shown as is."""
    return BACKEND_LABELS.get(backend, backend)


TO_VERIFY = "à vérifier sur le document"  # a quote from a passage whose characters may be misread
