"""Language check: the referentiel is French; a dossier in another language gets a warning."""

from __future__ import annotations

import py3langid

from pipeline.types import Dossier, Finding

_NAMES = {"en": "anglais", "de": "allemand", "es": "espagnol", "it": "italien", "pt": "portugais", "nl": "néerlandais"}


def detect_language(dossier: Dossier) -> list[Finding]:
    """Set dossier.language from the body text; return a warning finding when it is not French."""
    sample = " ".join(b.text for b in dossier.blocks if b.kind in ("paragraph", "list_item"))[:20000]
    if len(sample) < 200:
        sample = dossier.text[:20000]
    if len(sample) < 40:
        return []
    lang, _ = py3langid.classify(sample)
    dossier.language = str(lang)
    if lang == "fr":
        return []
    name = _NAMES.get(str(lang), str(lang))
    return [
        Finding(
            kind="language",
            text=f"langue détectée : {name} ({lang})",
            detail="Le dossier ne semble pas rédigé en français : les critères et l’analyse automatique sont "
            "prévus pour le français ; l’évaluation doit être faite à la main.",
        )
    ]
