"""Make a fresh Wagtail project and apply docs/installation.md to it, step by step.

The steps are the fenced blocks of the doc marked ``<!-- apply: TARGET MODE -->``:

- ``<path> append`` / ``<path> replace``: add the block to (or make it) that file;
- ``<path> before <marker>``: insert the block before the first ``<marker>``;
- ``shell``: run each line (``python`` is this interpreter) in the project.

Used by test_foreign_site.py (through the test client) and by ``make dist``
(a clean virtualenv with the built wheel runs ``manage.py check`` in it):

    python tests/install/foreign_site.py DIR     # prints the project directory
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "installation.md"
PROJECT = "mysite"

_STEP = re.compile(
    r"^<!-- apply: (?P<spec>[^\n]+?) -->\n```[a-z]*\n(?P<body>.*?)\n```", re.S | re.M
)


@dataclass
class Step:
    target: str  # a path in the project, or "shell"
    mode: str  # append, replace, before, run
    marker: str
    text: str


def steps(doc: Path = DOC) -> list[Step]:
    found = []
    text = doc.read_text()
    for match in _STEP.finditer(text):
        spec, body = match["spec"].strip(), match["body"]
        if spec == "shell":
            found.append(Step("shell", "run", "", body))
            continue
        target, mode, *rest = spec.split(" ", 2)
        found.append(Step(target, mode, rest[0] if rest else "", body))
    if len(found) != text.count("\n<!-- apply:"):
        raise RuntimeError("a marked step of docs/installation.md is not followed by a code block")
    return found


def env_for(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.pop("REDIS_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = f"{PROJECT}.settings.dev"
    env["PYTHONPATH"] = str(project)
    return env


def run(project: Path, command: list[str], python: str = sys.executable) -> str:
    if command[0] == "python":
        command = [python, *command[1:]]
    result = subprocess.run(
        command, cwd=project, env=env_for(project), capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )
    return result.stdout


def apply(step: Step, project: Path, python: str = sys.executable) -> None:
    if step.target == "shell":
        for line in step.text.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                run(project, shlex.split(line.split(" #")[0]), python)
        return
    path = project / step.target
    if step.mode == "replace":
        path.write_text(step.text + "\n")
    elif step.mode == "append":
        path.write_text(path.read_text() + "\n\n" + step.text + "\n")
    elif step.mode == "before":
        text = path.read_text()
        if step.marker not in text:
            raise RuntimeError(f"{step.marker!r} is not in {step.target}")
        path.write_text(text.replace(step.marker, step.text + "\n" + step.marker, 1))
    else:
        raise RuntimeError(f"unknown step mode {step.mode!r} in docs/installation.md")


def make_project(where: Path, python: str = sys.executable) -> Path:
    """``wagtail start`` (no network) then every step of the doc; returns the project."""
    where.mkdir(parents=True, exist_ok=True)
    wagtail = str(Path(python).with_name("wagtail"))
    subprocess.run([wagtail, "start", PROJECT, str(where)], check=True, capture_output=True)
    for step in steps():
        apply(step, where, python)
    return where


if __name__ == "__main__":
    python = sys.argv[2] if len(sys.argv) > 2 else sys.executable
    print(make_project(Path(sys.argv[1]), python))
