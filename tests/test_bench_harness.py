"""bench/: the arithmetic behind the printed ratios, and that the baseline really is the
site without wagtail_journey. No timing here: speed is measured by `make bench`, never
asserted in tests.
"""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.database import postgres_url
from bench.load import LoadResult, _keep_cookies, merge
from bench.stats import (
    BASELINE,
    FEATURE,
    Figure,
    alternating_order,
    percentile,
    ratio,
    ratio_interval,
)


def test_percentile_interpolates_linearly_between_ranks():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([4, 1, 3, 2], 0) == 1
    assert percentile([4, 1, 3, 2], 100) == 4
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_ratio_is_feature_over_baseline_and_none_without_a_baseline():
    assert ratio(85.0, 100.0) == 0.85
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 1.0) is None


def test_ratio_interval_is_symmetric_on_a_log_scale_and_needs_two_rounds():
    low, high = ratio_interval([0.8, 1.25])
    assert low * high == pytest.approx(1.0)  # centred on the geometric mean, 1.0
    # mean of logs 0, stdev ln(1.25)*sqrt(2), t(1 df) = 12.706, n = 2
    assert high == pytest.approx(1.25**12.706)
    assert ratio_interval([0.9, 0.9, 0.9]) == pytest.approx((0.9, 0.9))
    assert ratio_interval([0.9]) is None
    assert ratio_interval([0.9, 0.0]) is None


def test_target_is_read_in_the_direction_of_the_figure():
    throughput = Figure("throughput", "req/s", 84.0, 100.0, higher_is_better=True, target=0.85)
    assert throughput.ratio == pytest.approx(0.84)
    assert throughput.target_met is False
    duration = Figure("rebuild", "s", 14.0, 10.0, higher_is_better=False, target=1.5)
    assert duration.target_met is True
    assert Figure("row size", "bytes", 180.0).ratio is None
    assert Figure("row size", "bytes", 180.0).as_dict()["target_met"] is None


def test_rounds_alternate_abba_so_each_side_goes_first_equally_often():
    order = alternating_order(4)
    assert order == [(FEATURE, BASELINE), (BASELINE, FEATURE)] * 2
    assert sum(first == FEATURE for first, _ in order) == 2
    with pytest.raises(ValueError):
        alternating_order(0)


def test_merged_rounds_give_throughput_over_total_time_and_pooled_latencies():
    a = LoadResult(requests=100, elapsed=1.0, latencies_ms=[10.0] * 100)
    b = LoadResult(requests=300, errors=2, elapsed=3.0, latencies_ms=[30.0] * 300)
    total = merge([a, b])
    assert total.throughput == 100.0
    assert total.errors == 2
    assert total.latency(50) == 30.0
    assert total.latency(0) == 10.0


def test_server_cpu_is_summed_over_the_process_group(tmp_path):
    from bench.server import process_group_cpu_seconds

    ticks = os.sysconf("SC_CLK_TCK")
    # /proc/<pid>/stat: pid (comm) state ppid pgrp session tty tpgid flags
    # minflt cminflt majflt cmajflt utime stime ...; comm may hold spaces and ")".
    for pid, comm, pgrp, utime, stime in [
        (10, "gunicorn: master", 10, ticks, 0),
        (11, "gunicorn: worker) x", 10, 2 * ticks, ticks),
        (12, "pytest", 99, 50 * ticks, 0),
    ]:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(
            f"{pid} ({comm}) S 1 {pgrp} {pgrp} 0 -1 0 0 0 0 0 {utime} {stime} 0 0 20 0 1 0\n"
        )
    assert process_group_cpu_seconds(10, tmp_path) == 4.0


def test_client_keeps_and_drops_cookies_like_a_browser():
    jar: dict[str, str] = {}
    _keep_cookies(jar, ["wj_vid=abc; Max-Age=100; Path=/; SameSite=Lax", "junk=\x00;;"])
    assert jar["wj_vid"] == "abc"
    _keep_cookies(jar, ['wj_vid=""; Max-Age=0; Path=/'])
    assert "wj_vid" not in jar


def test_postgres_url_uses_the_bench_database_on_this_machine_only():
    url = postgres_url("postgres://postgres@127.0.0.1:5432/wagtail_journey", "wj_bench")
    assert url == "postgres://postgres@127.0.0.1:5432/wj_bench"
    with pytest.raises(SystemExit):
        postgres_url("postgres://postgres@db.example.com:5432/x", "wj_bench")
    with pytest.raises(SystemExit):
        postgres_url("sqlite:///x", "wj_bench")


def test_baseline_site_is_the_example_site_without_wagtail_journey(monkeypatch):
    monkeypatch.setenv("SQLITE_PATH", "/nonexistent/bench.sqlite3")
    monkeypatch.delitem(sys.modules, "bench.settings_common", raising=False)
    monkeypatch.delitem(sys.modules, "bench.settings_baseline", raising=False)
    baseline = importlib.import_module("bench.settings_baseline")
    site = importlib.import_module("demo.settings.base")

    removed = [app for app in site.INSTALLED_APPS if app not in baseline.INSTALLED_APPS]
    added = [app for app in baseline.INSTALLED_APPS if app not in site.INSTALLED_APPS]
    assert added == ["bench.stub_blocks.BaselineStubConfig"]
    assert sorted(removed) == sorted(baseline.JOURNEY_APPS)
    assert not any("journey" in m for m in baseline.MIDDLEWARE)

    demo_urls = importlib.import_module("demo.urls")
    bench_urls = importlib.import_module(baseline.ROOT_URLCONF)

    def patterns(module, skip=()):
        return [
            (type(p).__name__, str(p.pattern))
            for p in module.urlpatterns
            if str(p.pattern) not in skip
        ]

    # The package's endpoints and anymail's webhooks (anymail is one of JOURNEY_APPS).
    mounted = ("journey/", "anymail/")
    assert patterns(bench_urls) == patterns(demo_urls, skip=mounted)
    assert len(patterns(demo_urls)) == len(patterns(bench_urls)) + len(mounted)


def test_baseline_site_loads_a_stub_journey_tracking_library_rendering_nothing(monkeypatch):
    monkeypatch.setenv("SQLITE_PATH", "/nonexistent/bench.sqlite3")
    monkeypatch.delitem(sys.modules, "bench.settings_common", raising=False)
    monkeypatch.delitem(sys.modules, "bench.settings_baseline", raising=False)
    baseline = importlib.import_module("bench.settings_baseline")
    libraries = baseline.TEMPLATES[0]["OPTIONS"]["libraries"]
    stub = importlib.import_module(libraries["journey_tracking"])
    real = importlib.import_module("wagtail_journey.templatetags.journey_tracking")
    assert set(stub.register.tags) == set(real.register.tags)
    assert all(tag({}) == "" for tag in (stub.journey_script, stub.journey_consent_banner))


def test_every_benchmark_follows_the_runner_interface():
    from bench.run import discover

    modules = discover()
    assert {"pageview", "collect", "storage", "segments", "decay"} <= set(modules)
    for name, module in modules.items():
        assert name == module.NAME and module.TITLE and callable(module.run)


def test_postgres_only_benchmarks_skip_on_sqlite(tmp_path):
    from argparse import Namespace

    from bench.context import Context, Skipped
    from bench.database import BenchDatabase

    args = Namespace(quick=True, scale=None, repeat=None)
    ctx = Context(args=args, db=BenchDatabase("sqlite", "x"), results_dir=tmp_path)
    with pytest.raises(Skipped):
        ctx.postgres("storage")
    assert ctx.scale == 0.01 and ctx.repeat == 1


def test_collect_beacons_grant_consent_first_then_carry_one_event_each():
    import json

    from bench.bench_collect import EVENT_KIND, beacons

    make = beacons(3, "localhost")
    first, then = json.loads(make(0, 0).body), json.loads(make(0, 1).body)
    assert first == {"page": 3, "events": [{"kind": EVENT_KIND}], "consent": True}
    assert then == {"page": 3, "events": [{"kind": EVENT_KIND}]}
    assert make(1, 5).headers["Origin"] == "http://localhost"


def test_baseline_site_starts_without_wagtail_journey(tmp_path):
    # The baseline server must boot: its app registry loads the demo's models
    # (which import the package's form block) without the package installed.
    code = (
        "import django, sys; django.setup(); "
        "from django.apps import apps; "
        "assert not apps.is_installed('wagtail_journey'); "
        "from demo.models import StoryPage; "
        "assert 'wagtail_journey.models' not in sys.modules; print('ok')"
    )
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_baseline",
        "SQLITE_PATH": str(tmp_path / "bench.sqlite3"),
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "example_site")]),
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
