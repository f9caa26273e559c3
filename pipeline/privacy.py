"""Pseudonymisation of what leaves the machine: names, emails, phones, street addresses.

Placeholders ([PERSONNE_1], [EMAIL_1], ...) replace the values in the text sent to a remote
model and are restored in everything it returns, so reports show the real text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.types import Dossier

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
_ADDRESS = re.compile(
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|allée|chemin|place|impasse|quai|route|cours)"
    r"\s+[^\n,;.]{2,60}(?:,\s*\d{5}\s+[A-ZÉ][\w\- ]{1,40})?",
    re.I,
)
_NAME = r"[A-ZÉÈÀÂÎÔÛÇ][a-zéèàâêîôûçëï]+(?:-[A-ZÉÈ][a-zéèàâêîôûçëï]+)?"
_PERSON = re.compile(
    rf"\b(?:M\.|Mme|Mlle|Monsieur|Madame|Mademoiselle|Dr|Me)\s+(?:{_NAME}\s+)?(?:[A-ZÉÈ]{{2,}}|{_NAME})\b"
    rf"|\b{_NAME}\s+[A-ZÉÈ]{{2,}}(?:-[A-ZÉÈ]{{2,}})?\b"
)


@dataclass
class Pseudonymiser:
    mapping: dict[str, str] = field(default_factory=dict)  # original -> placeholder

    @classmethod
    def for_dossier(cls, dossier: Dossier, not_person_words: list[str] | None = None) -> Pseudonymiser:
        """`not_person_words`: common words that, before an acronym, make no name (the referentiel's vocabulary)."""
        common = frozenset(w.lower() for w in not_person_words or [])
        p = cls()
        for kind, rx in (("EMAIL", _EMAIL), ("TEL", _PHONE), ("ADRESSE", _ADDRESS), ("PERSONNE", _PERSON)):
            for m in rx.finditer(dossier.text):
                value = m.group(0).strip()
                if value and value not in p.mapping and not _is_acronym_pair(value, common):
                    n = sum(1 for v in p.mapping.values() if v.startswith(f"[{kind}_")) + 1
                    p.mapping[value] = f"[{kind}_{n}]"
        return p

    def apply(self, text: str) -> str:
        for original in sorted(self.mapping, key=len, reverse=True):
            text = text.replace(original, self.mapping[original])
        return text

    def restore(self, text: str) -> str:
        for original, placeholder in self.mapping.items():
            text = text.replace(placeholder, original)
        return text


def _is_acronym_pair(value: str, common_words: frozenset[str]) -> bool:
    # "Analyse SWOT", "Matrice PESTEL": a common word followed by an acronym is not a person
    return value.split()[0].lower() in common_words
