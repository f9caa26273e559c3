#!/usr/bin/env python3
"""Write the README's settings table from `Settings` (the one source of truth).

    .venv/bin/python scripts/settings_table.py          # rewrite the table in README.md
    .venv/bin/python scripts/settings_table.py --check  # exit 1 when the README is out of date

The table sits between the `<!-- settings-table -->` and `<!-- /settings-table -->` markers;
tests/test_readme.py runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.settings import Settings  # noqa: E402  (after the path is set)

START, END = "<!-- settings-table -->", "<!-- /settings-table -->"


def table() -> str:
    rows = ["| variable | default | what |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if name == "data_dir":
            default = "`~/.local/share/dossier-review` (XDG)"
        else:
            value = field.get_default(call_default_factory=True)
            default = "—" if value in (None, "") else f"`{value}`"
        what = (field.description or "").replace("|", "\\|")
        rows.append(f"| `DOSSIER_REVIEW_{name.upper()}` | {default} | {what} |")
    return "\n".join(rows)


def render(readme: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main() -> int:
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("README settings table is out of date: run scripts/settings_table.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
