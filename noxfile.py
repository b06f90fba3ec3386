"""The version matrix: the SQLite suite on each supported Wagtail x Django pair.

    .venv/bin/nox                       # every pair (CI runs this: .ci/run)
    .venv/bin/nox -s tests-py3.13-wagtail8.0-django6.1
    .venv/bin/nox -t foreign_site       # only the foreign-site test, on every pair

Virtualenvs are made by uv (fast, cached) from the interpreters pyenv has
(never downloaded). `make test` runs the project's own .venv (Python 3.11,
Wagtail 8, Django 5.2); PostgreSQL, Redis and the browser suites run there.
"""

from __future__ import annotations

import glob
import os

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.tags = ["tests"]
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

# pyenv's interpreters on PATH, so "3.12" and "3.13" are found without shims.
_pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
for _version in ("3.11", "3.12", "3.13"):
    for _bin in sorted(glob.glob(f"{_pyenv}/versions/{_version}.*/bin"))[-1:]:
        os.environ["PATH"] = f"{_bin}{os.pathsep}{os.environ['PATH']}"

#: (Python, Wagtail, Django): every supported pair the project's .venv does not run.
#: Wagtail 7.4 LTS supports Django 5.2 and 6.0; Wagtail 8 supports 5.2, 6.0 and 6.1;
#: Django 6 needs Python 3.12 or later.
PAIRS = [
    ("3.11", "7.4", "5.2"),
    ("3.12", "7.4", "6.0"),
    ("3.12", "8.0", "6.0"),
    ("3.13", "8.0", "6.1"),
]

#: Wagtail 7.4 -> "wagtail>=7.4,<7.5"; Wagtail 8.0 -> the 8.x line.
WAGTAIL_SPECS = {"7.4": "wagtail>=7.4,<7.5", "8.0": "wagtail>=8.0,<9"}


def _install(session: nox.Session, wagtail: str, django: str) -> None:
    major, minor = django.split(".")
    session.install(
        "-e",
        ".[dev,redis]",
        WAGTAIL_SPECS[wagtail],
        f"Django>={django},<{major}.{int(minor) + 1}",
    )
    session.run(
        "python",
        "-c",
        "import django, wagtail, sys; "
        "print('Python', sys.version.split()[0], 'Django', django.__version__, "
        "'Wagtail', wagtail.__version__)",
    )


def _tests(session: nox.Session, wagtail: str, django: str) -> None:
    _install(session, wagtail, django)
    session.run(
        # Real-qcluster and 100,000-row tests run once, in `make test` and
        # `make test-postgres`: what they prove does not vary by framework version,
        # and they are most of the suite's time.
        "python", "-m", "pytest", "-m", "not postgres and not e2e and not worker and not scale",
        "-q", "-p",
        "no:cacheprovider", *session.posargs,
    )  # fmt: skip


def _foreign_site(session: nox.Session, wagtail: str, django: str) -> None:
    _install(session, wagtail, django)
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/install")


# One named session per pair (nox parametrizes Python only through session(python=)).
for _py, _wagtail, _django in PAIRS:
    _id = f"py{_py}-wagtail{_wagtail}-django{_django}"
    nox.session(
        python=_py,
        name=f"tests-{_id}",
        tags=["tests"],
    )(lambda session, w=_wagtail, d=_django: _tests(session, w, d))
    nox.session(
        python=_py,
        name=f"foreign_site-{_id}",
        tags=["foreign_site"],
    )(lambda session, w=_wagtail, d=_django: _foreign_site(session, w, d))
