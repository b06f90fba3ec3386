"""Release checks of a built wheel and sdist (``make dist`` runs this after build and twine).

1. Contents: templates, static files, compiled translations and migrations are
   in both; nothing of tests/, example_site/ or bench/ is.
2. For each bakerydemo-like site (its own Wagtail and Django pinned first), a
   clean virtualenv installs the wheel without changing either version, and
   ``manage.py check`` passes in a fresh ``wagtail start`` project set up by
   docs/installation.md (tests/install/foreign_site.py).

    python tests/install/check_dist.py dist/ [--contents-only]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from foreign_site import make_project, run  # noqa: E402

#: (Python, the site's own Wagtail and Django pins)
SITES = [
    ("3.12", "wagtail==7.4.*", "Django==6.0.*"),
    ("3.13", "wagtail>=8.0,<9", "Django==6.1.*"),
]
REQUIRED = (
    "wagtail_journey/templates/wagtail_journey/blocks/form.html",
    "wagtail_journey/static/wagtail_journey/journey.js",
    "wagtail_journey/static/wagtail_journey/journey.css",
    "wagtail_journey/locale/fr/LC_MESSAGES/django.mo",
    "wagtail_journey/locale/pt/LC_MESSAGES/django.mo",
    "wagtail_journey/locale/fr/LC_MESSAGES/django.po",
    "wagtail_journey/migrations/0001_initial.py",
    "wagtail_journey/privacy/schema/export-v1.json",
)
FORBIDDEN = ("tests/", "example_site/", "bench/", "demo/")


def check_contents(names: list[str], what: str) -> None:
    missing = [r for r in REQUIRED if not any(n.endswith(r) for n in names)]
    extra = [n for n in names if any(f"/{f}" in f"/{n}" for f in FORBIDDEN)]
    if missing or extra:
        raise SystemExit(f"{what}: missing {missing}, should not contain {extra[:10]}")
    print(f"{what}: {len(names)} files, contents ok")


def versions(python: Path) -> str:
    code = "import django, wagtail; print(wagtail.__version__, django.__version__)"
    return subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout


def check_site(wheel: Path, py: str, wagtail: str, django: str, work: Path) -> None:
    uv = Path(sys.executable).with_name("uv")
    venv = work / f"venv-{py}"
    # The caller's environment (index, proxy and certificate settings) plus pyenv.
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "PATH": _path_with_pyenv()}
    subprocess.run([uv, "venv", "-q", "-p", py, venv], check=True, env=env)
    python = venv / "bin" / "python"
    pip = [uv, "pip", "install", "-q", "--python", python]
    subprocess.run([*pip, wagtail, django], check=True, env=env)
    before = versions(python)
    subprocess.run([*pip, wheel], check=True, env=env)
    after = versions(python)
    if before != after:
        raise SystemExit(f"installing the wheel changed Wagtail/Django: {before} -> {after}")
    project = make_project(work / f"site-{py}", str(python))
    out = run(project, ["python", "manage.py", "check"], str(python)).strip()
    if out != "System check identified no issues (0 silenced).":
        raise SystemExit(f"manage.py check in the foreign site: {out}")
    print(f"Python {py}, Wagtail/Django {after.strip()}: wheel installed unchanged, check ok")


def _path_with_pyenv() -> str:
    import glob

    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    bins = [sorted(glob.glob(f"{root}/versions/{v}.*/bin"))[-1:] for v in ("3.12", "3.13")]
    return os.pathsep.join([b for found in bins for b in found] + [os.environ["PATH"]])


def main(dist: Path, contents_only: bool) -> None:
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    check_contents(zipfile.ZipFile(wheel).namelist(), wheel.name)
    with tarfile.open(sdist) as archive:
        check_contents(archive.getnames(), sdist.name)
    if contents_only:
        return
    with tempfile.TemporaryDirectory(prefix="journey-dist-") as work:
        for py, wagtail, django in SITES:
            check_site(wheel.resolve(), py, wagtail, django, Path(work))


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--contents-only" in sys.argv)
