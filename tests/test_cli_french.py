"""The command line speaks French, its own help and usage errors included (click/typer text)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli_fr import translate

ENGLISH = (
    "Show this message",
    "Missing option",
    "Missing argument",
    "Invalid value",
    "[required]",
    "Usage:",
    "Did you mean",
    "Input should be",
    "No such",
    "Try '",
)


@pytest.mark.parametrize(
    ("args", "french"),
    [
        (["--help"], "Affiche cette aide et quitte."),
        (["review", "--help"], "[obligatoire]"),
        (["review", "x.docx"], "Option obligatoire manquante : '--module'"),
        (["decide", "r", "C1.1", "--level", "deux", "--assessor", "A"], "un nombre entier est attendu"),
        (["revew"], "Vouliez-vous dire"),
        (["review"], "Argument obligatoire manquant"),
    ],
)
def test_help_and_usage_errors_are_french(args: list[str], french: str) -> None:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    text = result.output
    assert french in text, text
    assert not [w for w in ENGLISH if w in text], text


def test_unknown_messages_pass_through_untouched() -> None:
    assert translate("Quelque chose d’inattendu") == "Quelque chose d’inattendu"
