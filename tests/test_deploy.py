"""deploy/ checked without Docker: every command the compose file, the Dockerfile and the deploy
README run is a command of the installed tools with options they accept, every variable they set
is a Settings field with a valid value, and what the Dockerfile copies exists."""

from __future__ import annotations

import re
import shlex
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from pipeline.cli import app
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
PREFIX = "DOSSIER_REVIEW_"


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))  # resolves the <<: anchors
    assert isinstance(data, dict)
    return data


def _interpolate(value: str) -> str:
    """Compose's ${VAR:-default} with the variable unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def _check_cli(args: list[str]) -> None:
    """`dossier-review ARGS` names a command (or group + command) whose options parse."""
    cmd: Any = typer.main.get_command(app)
    rest = list(args)
    while hasattr(cmd, "commands"):  # a group (typer vendors its own click: no isinstance)
        assert rest, f"dossier-review {' '.join(args)}: no command"
        assert rest[0] in cmd.commands, f"dossier-review {' '.join(args)}: no command {rest[0]!r}"
        cmd, rest = cmd.commands[rest[0]], rest[1:]
    cmd.make_context(cmd.name or "", rest)  # raises on an unknown option or a missing argument


def _check_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env.items():
        assert key.startswith(PREFIX), key
        assert key[len(PREFIX) :].lower() in Settings.model_fields, f"{key} is not a setting"
        monkeypatch.setenv(key, _interpolate(str(value)))
    Settings()  # the values validate


def test_compose_services_run_real_commands_with_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = _compose()
    ours = {name: s for name, s in compose["services"].items() if s.get("image") == "dossier-review"}
    assert {"chroma", "embed", "web", "worker1", "worker2"} <= set(ours)
    scripts = {e.name for e in entry_points(group="console_scripts")}
    for name, service in ours.items():
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name  # built, never pulled
        entry = service.get("entrypoint", ["dossier-review"])
        assert entry[0] in scripts, f"{name}: {entry[0]} is not an installed command"
        if entry == ["dossier-review"]:
            _check_cli(service["command"])
        _check_env(service.get("environment", {}), monkeypatch)
    for name, service in compose["services"].items():
        for dep in service.get("depends_on", {}):
            assert dep in compose["services"], f"{name} depends on unknown {dep}"
        for dep, cond in service.get("depends_on", {}).items():
            assert cond["condition"] in ("service_healthy", "service_started"), (name, dep)
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in compose["services"][dep], f"{name} waits for {dep}'s health, never checked"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], volume
    worker = compose["services"]["worker1"]
    grace = Settings().worker_grace_s
    assert int(worker["stop_grace_period"].rstrip("s")) > grace  # SIGTERM lets reviews finish before SIGKILL


def test_dockerfile_copies_what_exists_installs_a_real_extra_and_runs_the_cli() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for line in lines:
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), line
        if line.startswith("ENV "):
            for key, _ in (pair.split("=", 1) for pair in line.split()[1:]):
                if key.startswith(PREFIX):
                    assert key[len(PREFIX) :].lower() in Settings.model_fields, key
        if line.startswith("RUN pip install"):
            for extra in re.findall(r"\.\[([a-z,]+)\]", line):
                assert set(extra.split(",")) <= set(project["optional-dependencies"]), line
    entry = next(line for line in lines if line.startswith("ENTRYPOINT"))
    assert shlex.split(entry.split(None, 1)[1].strip("[]").replace(",", " ")) == ["dossier-review"]
    assert "dossier-review" in project["scripts"]
    wheel_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    needed = set(wheel_data["targets"]["wheel"]["packages"]) | set(wheel_data["targets"]["wheel"]["force-include"])
    assert needed <= copied, f"the wheel build needs {needed - copied}"


def _readme_commands() -> list[list[str]]:
    """The shell lines of deploy/README.md's code blocks, continuation lines joined, comments dropped."""
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[-1] == "&":
                words = words[:-1]
            if words:
                lines.append(words)
    lines += [shlex.split(span) for span in re.findall(r"`(dossier-review [^`]+)`", text)]  # inline commands
    return lines


def test_deploy_readme_commands_are_real(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = _readme_commands()
    ran = []
    for words in commands:
        if words[0] == "dossier-review":
            _check_cli(words[1:])
            ran.append(words[1])
        elif words[:2] == ["docker", "compose"]:
            assert words[2:4] == ["-f", "deploy/compose.yaml"], words  # pasted from the project root
            if "run" in words:
                service = words[words.index("--rm") + 1]
                assert service in _compose()["services"], words
                _check_cli(words[words.index(service) + 1 :])
            if "--scale" in words:
                assert words[words.index("--scale") + 1].split("=")[0] in _compose()["services"], words
        elif words[0] == "export":
            _check_env(dict(w.split("=", 1) for w in words[1:] if w.startswith(PREFIX)), monkeypatch)
    assert {"serve", "worker", "embed-server", "compact-index"} <= set(ran), ran
