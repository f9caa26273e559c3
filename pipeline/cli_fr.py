"""French for the command line's own words: click's and typer's help, usage and validation messages.

click and typer look every message up through `gettext`; installing a catalogue for them
would need compiled `.mo` files and a locale, so the few modules that translate get a lookup
of their own instead. Messages not listed stay in English (none of the common ones are).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

FR: dict[str, str] = {
    "Aborted!": "Interrompu.",
    "Aborted.": "Interrompu.",
    "Options": "Options",
    "Arguments": "Arguments",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Error": "Erreur",
    "Usage:": "Usage :",
    "Missing command.": "Commande manquante.",
    "Show this message and exit.": "Affiche cette aide et quitte.",
    "Show the version and exit.": "Affiche la version et quitte.",
    "Do you want to continue?": "Voulez-vous continuer ?",
    "Confirm the action without prompting.": "Confirme l’action sans la demander.",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l’aide.",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "Essayez [blue]« {command_path} {help_option} »[/] "
    "pour l’aide.",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing {param_type}": "{param_type} manquant(e)",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "unknown error": "erreur inconnue",
    "Could not open file {filename!r}: {message}": "Impossible d’ouvrir le fichier {filename!r} : {message}",
    "Option {name!r} does not take a value.": "L’option {name!r} ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L’argument {name!r} prend {nargs} valeurs.",
    "{value!r} is not a valid {number_type}.": "{value!r} n’est pas un {number_type} valide.",
    "{value} is not in the range {range}.": "{value} n’est pas dans l’intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} n’est pas un booléen valide. "
    "Valeurs reconnues : {states}",
    "{value!r} is not a valid UUID.": "{value!r} n’est pas un UUID valide.",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "{name} {filename!r} does not exist.": "{name} {filename!r} introuvable.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} illisible (droits).",
    "{name} {filename!r} is not writable.": "{name} {filename!r} non modifiable (droits).",
    "Choose from:\n\t{choices}": "Choisissez parmi :\n\t{choices}",
    "default: {default}": "défaut : {default}",
    "env var: {var}": "variable : {var}",
    "required": "obligatoire",
    "(dynamic)": "(dynamique)",
    "(deprecated) ": "(obsolète) ",
    "[default: {}]": "[défaut : {}]",
    "[env var: {}]": "[variable : {}]",
    "[required]": "[obligatoire]",
    "Repeat for confirmation": "Répétez pour confirmer",
    "Error: The two entered values do not match.": "Erreur : les deux valeurs saisies diffèrent.",
    "Error: invalid input": "Erreur : saisie invalide",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
}
FR_PLURAL: dict[str, tuple[str, str]] = {
    "Got unexpected extra argument ({args})": (
        "Argument en trop : {args}",
        "Arguments en trop : {args}",
    ),
    "Option {name!r} requires an argument.": (
        "L’option {name!r} attend une valeur.",
        "L’option {name!r} attend {nargs} valeurs.",
    ),
    "{value!r} is not {choice}.": (
        "{value!r} n’est pas {choice}.",
        "{value!r} ne fait pas partie de : {choices}.",
    ),
    "Did you mean {possibility}?": (
        "Vouliez-vous dire {possibility} ?",
        "(Vouliez-vous dire : {possibilities} ?)",
    ),
    "Takes {nargs} values but 1 was given.": (
        "Attend {nargs} valeurs, 1 donnée.",
        "Attend {nargs} valeurs, {len} données.",
    ),
}
_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.types",
    "click.termui",
    "typer.core",
    "typer.rich_utils",
)
_RICH_CONSTANTS = (
    "DEPRECATED_STRING",
    "DEFAULT_STRING",
    "ENVVAR_STRING",
    "REQUIRED_LONG_STRING",
    "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE",
    "COMMANDS_PANEL_TITLE",
    "ERRORS_PANEL_TITLE",
    "ABORTED_TEXT",
    "RICH_HELP",
)


def gettext_fr(message: str) -> str:
    return FR.get(message, message)


def ngettext_fr(singular: str, plural: str, n: int) -> str:
    pair = FR_PLURAL.get(singular)
    if pair is None:
        return singular if n == 1 else plural
    return pair[0] if n == 1 else pair[1]


# typer >= 0.20 ships its own click whose messages are f-strings: they are translated once
# formatted, pattern by pattern (the parts in between — option names, values — are kept).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.S), r)
    for p, r in (
        (r"^Missing option (.+?)\.(?: (.*))?$", r"Option obligatoire manquante : \1. \2"),
        (r"^Missing argument (.+?)\.(?: (.*))?$", r"Argument obligatoire manquant : \1. \2"),
        (r"^Missing parameter (.+?)\.(?: (.*))?$", r"Paramètre obligatoire manquant : \1. \2"),
        (r"^Missing parameter: (.+)$", r"Paramètre obligatoire manquant : \1"),
        (r"^Invalid value for (.+?): (.*)$", r"Valeur invalide pour \1 : \2"),
        (r"^Invalid value: (.*)$", r"Valeur invalide : \1"),
        (r"^No such option: (.+?)(?: \(Possible options: (.+)\))?$", r"Option inconnue : \1. \2"),
        (r"^No such command '(.+)'\.$", r"Commande inconnue : « \1 »."),
        (r"^Got unexpected extra arguments? \((.+)\)$", r"Argument(s) en trop : \1"),
        (r"^Option '(.+)' requires an argument\.$", r"L’option « \1 » attend une valeur."),
        (r"^Option '(.+)' requires (\d+) arguments\.$", r"L’option « \1 » attend \2 valeurs."),
        (r"^Option '(.+)' does not take a value\.$", r"L’option « \1 » ne prend pas de valeur."),
        (r"Input should be a valid integer(?:, unable to parse string as an integer)?", "un nombre entier est attendu"),
        (r"Input should be a valid number(?:, unable to parse string as a number)?", "un nombre est attendu"),
        (r"Input should be a valid boolean(?:, unable to interpret input)?", "oui/non est attendu"),
        (r"Input should be (.+)", r"valeur attendue : \1"),
        (r"Path '(.+)' does not exist\.", r"chemin « \1 » introuvable."),
        (r"File '(.+)' does not exist\.", r"fichier « \1 » introuvable."),
        (r"Directory '(.+)' does not exist\.", r"dossier « \1 » introuvable."),
        (r"^Missing command\.$", "Commande manquante."),
        (r"Did you mean (.+)\?", r"Vouliez-vous dire \1 ?"),
    )
)


def translate(message: str) -> str:
    """French for one formatted click/typer message (unknown messages are returned as they are)."""
    out = message
    for rx, repl in _PATTERNS:
        out = rx.sub(repl, out)
    return out.replace(" :  ", " : ").replace(". .", ".").strip()


def _translating(method: Callable[..., str]) -> Callable[..., str]:
    def wrapper(self: object) -> str:
        return translate(method(self))

    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    return wrapper


def _install_vendored() -> bool:
    """French for typer's own copy of click; False when typer uses the separate click package."""
    try:
        exceptions = importlib.import_module("typer._click.exceptions")
        core = importlib.import_module("typer._click.core")
    except ImportError:  # older typer: plain click, translated through gettext above
        return False
    for name in ("ClickException", "UsageError", "BadParameter", "MissingParameter", "NoSuchOption", "FileError"):
        cls = getattr(exceptions, name, None)
        method = getattr(cls, "format_message", None) if cls else None
        if method is not None and not hasattr(method, "__wrapped__"):
            cls.format_message = _translating(method)  # type: ignore[union-attr]
    formatting = importlib.import_module("typer._click.formatting")
    write_usage = formatting.HelpFormatter.write_usage
    if not hasattr(write_usage, "__wrapped__"):

        def french_usage(self: object, prog: str, args: str = "", prefix: str | None = None) -> None:
            write_usage(self, prog, args, "Usage : " if prefix is None else prefix)

        french_usage.__wrapped__ = write_usage  # type: ignore[attr-defined]
        formatting.HelpFormatter.write_usage = french_usage
    for cls in vars(core).values():
        get_help = getattr(cls, "get_help_option", None) if isinstance(cls, type) else None
        if get_help is None or hasattr(get_help, "__wrapped__") or "get_help_option" not in vars(cls):
            continue

        def french_help(self: object, ctx: object, _orig: Callable[..., object] = get_help) -> object:
            option = _orig(self, ctx)
            if option is not None and getattr(option, "help", None) == "Show this message and exit.":
                setattr(option, "help", FR["Show this message and exit."])  # noqa: B010 (an untyped vendored object)
            return option

        french_help.__wrapped__ = get_help  # type: ignore[attr-defined]
        cls.get_help_option = french_help
    return True


def install() -> None:
    """Route click's and typer's messages through the French lookup (idempotent)."""
    vendored = _install_vendored()
    patches: dict[str, Callable[..., str]] = {"_": gettext_fr, "ngettext": ngettext_fr}
    for name in _MODULES:
        if vendored and name.startswith("click."):  # typer does not use the separate click: not loaded for it
            continue
        try:
            module = importlib.import_module(name)
        except ImportError:  # typer without rich: nothing to translate there
            continue
        for attr, fn in patches.items():
            if hasattr(module, attr):
                setattr(module, attr, fn)
    rich_utils = importlib.import_module("typer.rich_utils")
    english = {
        "DEPRECATED_STRING": "(deprecated) ",
        "DEFAULT_STRING": "[default: {}]",
        "ENVVAR_STRING": "[env var: {}]",
        "REQUIRED_LONG_STRING": "[required]",
        "ARGUMENTS_PANEL_TITLE": "Arguments",
        "OPTIONS_PANEL_TITLE": "Options",
        "COMMANDS_PANEL_TITLE": "Commands",
        "ERRORS_PANEL_TITLE": "Error",
        "ABORTED_TEXT": "Aborted.",
        "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
    }
    for const in _RICH_CONSTANTS:
        if hasattr(rich_utils, const):
            setattr(rich_utils, const, gettext_fr(english[const]))
