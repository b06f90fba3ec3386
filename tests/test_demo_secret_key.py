"""The example site ships no secret key: it makes one on first run, kept out of git."""

import stat
import subprocess
from pathlib import Path

from demo.settings import base

EXAMPLE_SITE = Path(base.__file__).resolve().parents[2]


def test_no_secret_key_is_written_in_the_settings():
    source = Path(base.__file__).read_text()
    assert "insecure" not in source
    assert 'SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or load_or_create' in source


def test_first_run_creates_a_private_random_key_and_later_runs_reuse_it(tmp_path):
    path = tmp_path / ".secret_key"
    first = base.load_or_create_secret_key(path)
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base.load_or_create_secret_key(path) == first
    assert base.load_or_create_secret_key(tmp_path / "other") != first


def test_an_empty_key_file_is_replaced(tmp_path):
    path = tmp_path / ".secret_key"
    path.write_text("")
    assert len(base.load_or_create_secret_key(path)) >= 50


def test_the_key_file_is_ignored_by_git():
    result = subprocess.run(
        ["git", "check-ignore", "-q", str(EXAMPLE_SITE / ".secret_key")],
        cwd=EXAMPLE_SITE,
        check=False,
    )
    assert result.returncode == 0
