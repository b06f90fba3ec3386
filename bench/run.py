"""Run the benchmarks in bench/ and print, for each, feature vs baseline and their ratio.

    make bench                                  # every benchmark, full length
    make bench BENCH_ARGS="--only pageview --quick"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x make bench   # PostgreSQL, db wj_bench

A benchmark is a module ``bench/bench_<name>.py`` with ``NAME``, ``TITLE``,
``run(ctx) -> BenchResult`` and optionally ``add_arguments(parser)``; it may
raise ``bench.context.Skipped`` (e.g. a PostgreSQL-only benchmark on SQLite).
The runner never imports Django: a module's Django work runs in a child
process (``bench.database.run_script``), usually the module itself run as a
script, whose ``main()`` prints its JSON last. Feature and baseline are
measured in the same run, in alternating rounds. Results go
to bench/results/<name>.json (the latest run) and bench/results/history.jsonl
(every run), with the machine and the date. Speed targets are reported, never
asserted: the exit status is non-zero only when a benchmark failed to measure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))  # `python bench/run.py` imports bench.*

from bench import database, machine  # noqa: E402
from bench.context import DEFAULTS, Context, Skipped  # noqa: E402
from bench.stats import BenchResult, format_number  # noqa: E402


def discover() -> dict[str, ModuleType]:
    """bench/bench_*.py modules by their NAME, in file-name order."""
    modules = {}
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        module = importlib.import_module(f"bench.{path.stem}")
        for attr in ("NAME", "TITLE", "run"):
            if not hasattr(module, attr):
                raise SystemExit(f"{path.name} has no {attr}: not a benchmark module")
        modules[module.NAME] = module
    return modules


def build_parser(modules: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmarks of wagtail_journey against a baseline, measured in one run."
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these benchmarks (repeatable or comma-separated)",
    )
    parser.add_argument("--quick", action="store_true", help="short rounds (well under a minute)")
    for name, help_text in (
        ("rounds", "alternating feature/baseline rounds of the HTTP benchmarks"),
        ("duration", "seconds of load per side and round"),
        ("warmup", "seconds of unmeasured load per side"),
        ("scale", "data size of storage, segments, decay: 1.0 = 1,000,000 rows"),
        ("repeat", "timed runs per side of the statement benchmarks (segments, decay)"),
    ):
        full, quick = DEFAULTS[name]
        parser.add_argument(
            f"--{name}",
            type=int if name in ("rounds", "repeat") else float,
            help=f"{help_text} (default {full}, --quick {quick})",
        )
    parser.add_argument("--concurrency", type=int, default=4, help="client connections (4)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per server worker (2)")
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        help="database (default: postgres when DATABASE_URL is set, else sqlite)",
    )
    parser.add_argument(
        "--pg-name",
        default=database.DEFAULT_PG_NAME,
        help=f"the bench's own PostgreSQL database ({database.DEFAULT_PG_NAME})",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL"),
        help="Redis for the sites' cache, rate limits and django-q2 (BENCH_REDIS_URL; "
        "default: none, the embedded local-memory cache and ORM broker)",
    )
    parser.add_argument(
        "--results-dir", type=Path, default=BENCH_DIR / "results", help="where results go"
    )
    parser.add_argument(
        "--note", default="", help="recorded with the results (e.g. what else ran on the machine)"
    )
    for module in modules.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    return parser


def selected(modules: dict[str, ModuleType], only: list[str] | None) -> list[ModuleType]:
    if not only:
        return list(modules.values())
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise SystemExit(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(modules)}")
    return [modules[n] for n in names]


def render(result: BenchResult) -> str:
    """The human-readable table of one result."""
    f_label, b_label = result.feature_label, result.baseline_label
    metric_width = max(len(f"{f.metric} ({f.unit})") for f in result.figures) + 2
    lines = [
        f"   {'metric':<{metric_width}}{f_label:>12}{b_label:>12}{'ratio':>9}"
        f"  {'95% CI':<13}  better   target"
    ]
    for f in result.figures:
        better = "higher" if f.higher_is_better else "lower"
        target = ""
        if f.target is not None:
            sign = ">=" if f.higher_is_better else "<="
            met = {True: "met", False: "NOT met", None: "-"}[f.target_met]
            target = f"{sign} {f.target:g} {met}"
        ratio_text = "-" if f.ratio is None else f"{f.ratio:.3f}"
        ci = "-" if f.interval is None else f"{f.interval[0]:.3f}-{f.interval[1]:.3f}"
        name = f"{f.metric} ({f.unit})"
        row = (
            f"   {name:<{metric_width}}{format_number(f.feature):>12}"
            f"{format_number(f.baseline):>12}{ratio_text:>9}  {ci:<13}  {better:<7}  {target}"
        )
        lines.append(row.rstrip())
    lines += [f"   {note}" for note in result.notes]
    if result.errors:
        lines.append(f"   {result.errors} request(s) failed: these figures are not valid")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    modules = discover()
    args = build_parser(modules).parse_args(argv)
    if args.list:
        for name, module in modules.items():
            print(f"{name:<16}{module.TITLE}")
        return 0
    to_run = selected(modules, args.only)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    db = database.choose(args.db, args.pg_name, args.results_dir, args.redis_url)
    ctx = Context(args=args, db=db, results_dir=args.results_dir)
    info = machine.machine_info()
    info["database"] = {"vendor": db.vendor, "version": db.version, "where": db.label}
    print(
        f"{info['cpu_model']}, {info['cores']} cores, {info['memory_gib']} GiB, "
        f"Python {info['python']}, {db.label} ({db.version}), "
        f"Redis: {args.redis_url or 'none'}"
    )
    info["redis"] = args.redis_url
    failed = 0
    for module in to_run:
        print(f"\n== {module.NAME}: {module.TITLE}", flush=True)
        load_before = machine.load_average()
        try:
            result = module.run(ctx)
        except Skipped as exc:
            print(f"   skipped: {exc}")
            continue
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            print(f"   FAILED: {exc}")
            failed += 1
            continue
        record = {
            "name": result.name,
            "date": machine.now_utc(),
            "command": shlex.join(["bench/run.py", *argv]),
            "git_revision": machine.git_revision(),
            "machine": info,
            "load_average_before": load_before,
            "load_average_after": machine.load_average(),
            "note": args.note,
            **result.as_dict(),
        }
        out = args.results_dir / f"{result.name}.json"
        out.write_text(json.dumps(record, indent=2) + "\n")
        with (args.results_dir / "history.jsonl").open("a") as history:
            history.write(json.dumps(record) + "\n")
        print(render(result))
        print(f"   load average before/after: {load_before} / {record['load_average_after']}")
        print(f"   results: {out}")
        failed += bool(result.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
