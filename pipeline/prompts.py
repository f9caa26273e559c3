"""Prompt templates as files under `prompts/`, placeholders checked at load, hashed for provenance."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.errors import PromptError
from pipeline.resources import resource_dir

EXPECTED: dict[str, set[str]] = {
    "draft_criterion.system": {
        "referentiel",
        "module_id",
        "module_title",
        "delimiter_open",
        "delimiter_close",
        "scale",
    },
    "draft_criterion.user": {
        "criterion_id",
        "competency_id",
        "preamble",
        "criterion_text",
        "expected_contents",
        "chunks",
        "delimiter_open",
        "delimiter_close",
    },
}


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    fields: frozenset[str]

    def render(self, **values: str) -> str:
        missing = self.fields - values.keys()
        extra = values.keys() - self.fields
        if missing or extra:
            raise PromptError(f"{self.name}: missing {sorted(missing)}, unexpected {sorted(extra)}")
        return self.text.format(**values)


def _fields(name: str, text: str) -> frozenset[str]:
    try:
        return frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f)
    except ValueError as e:
        raise PromptError(f"prompt {name}: malformed placeholder: {e}") from e


def load_template(name: str, folder: Path | None = None) -> Template:
    path = (folder or resource_dir("prompts")) / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise PromptError(f"prompt file {path} not found", f"Fichier de consigne introuvable : {path}.") from e
    fields = _fields(name, text)
    want = EXPECTED.get(name)
    if want is not None and fields != want:
        raise PromptError(
            f"prompt {path}: placeholders {sorted(fields)} differ from expected {sorted(want)} "
            f"(missing {sorted(want - fields)}, unknown {sorted(fields - want)})"
        )
    return Template(name, text, fields)


@dataclass(frozen=True)
class PromptSet:
    system: Template
    user: Template

    @property
    def hash(self) -> str:
        h = hashlib.sha256()
        for t in (self.system, self.user):
            h.update(t.name.encode() + b"\0" + t.text.encode() + b"\0")
        return h.hexdigest()[:16]


@lru_cache(maxsize=4)
def draft_prompts(folder: Path | None = None) -> PromptSet:
    return PromptSet(load_template("draft_criterion.system", folder), load_template("draft_criterion.user", folder))
