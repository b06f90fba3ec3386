"""Benchmark: a broadcast's whole sending pipeline vs a bare loop posting the same messages.

    make bench BENCH_ARGS="--only broadcast [--quick] [--broadcast-sizes 10000,100000]"

bench/run.py calls run(ctx); the Django work runs in child processes (this file
run as a script):

- ``esp``: a stand-in for Postmark's HTTP API in a process of its own (keep-alive,
  a fixed answer, a request counter), so both sides post over real HTTP to the
  same server and neither shares its interpreter with it;
- ``prepare``: the largest audience's consented contacts (bulk inserts), one
  static segment per size and the newsletter template; idempotent;
- ``worker SIZE``: the measured worker, one fresh process per size. It starts a
  broadcast to that segment (the audience frozen in one INSERT ... SELECT,
  timed apart), then alternates rounds (ABBA) until every message is sent:
  the feature is ``sending.send_due`` (claim, gate, render, send through
  anymail's real Postmark backend, record the outcome), the baseline a bare loop
  calling ``send()`` on messages the pipeline built before the clock started
  (same headers, tracked links, metadata), through the same backend and server.
  It reports emails/s per round, the SQL statements of one batch near the start
  and near the end, and its peak resident memory (ru_maxrss).

Targets (issue 11): the pipeline >= 0.5 of the bare loop; statements per batch
constant (also asserted by tests/emails/test_ab_tests.py and test_sending.py);
worker memory flat from the small to the large audience.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import BASELINE, FEATURE, BenchResult, Figure, alternating_order, paired_interval

NAME = "broadcast"
TITLE = "Broadcast emails/s through anymail's Postmark backend vs a bare send() loop"
SETTINGS = "bench.settings_journey"
FULL_SIZES = (10_000, 100_000)
QUICK_SIZES = (1_000, 5_000)
EMAIL = "bench-bc-{}@example.com"
POOL = 200  # pre-built messages the bare loop cycles through


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broadcast-sizes",
        help="audiences of the broadcast benchmark, small,large "
        f"(default {FULL_SIZES[0]},{FULL_SIZES[1]}; --quick {QUICK_SIZES[0]},{QUICK_SIZES[1]})",
    )


# --- the provider's stand-in ------------------------------------------------------------


def serve_esp() -> None:
    """Answer like Postmark's /email endpoint until killed; print the URL first."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    count = [0]
    lock = threading.Lock()
    answer = json.dumps(
        {
            "To": "x@example.com",
            "SubmittedAt": "2026-12-01T10:00:00Z",
            "MessageID": "b0a1c6d2-0000-4000-8000-000000000000",
            "ErrorCode": 0,
            "Message": "OK",
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real provider

        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                count[0] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def do_GET(self) -> None:  # the request count, for the runner
            body = str(count[0]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"http://127.0.0.1:{httpd.server_address[1]}/", flush=True)
    httpd.serve_forever()


# --- data ----------------------------------------------------------------------------------


def prepare(sizes: list[int]) -> dict:
    """Contacts with a confirmed marketing consent, a static segment per size, the template."""
    from django.db import transaction
    from django.utils import timezone

    from bench.bench_emailrender import _template
    from wagtail_journey.models import (
        Broadcast,
        ConsentPurpose,
        ConsentRecord,
        Contact,
        OutboundEmail,
        Segment,
        SegmentMembership,
    )
    from wagtail_journey.privacy.consent import record_consent

    started = time.perf_counter()
    OutboundEmail.objects.filter(broadcast__name__startswith="bench-broadcast").delete()
    Broadcast.objects.filter(name__startswith="bench-broadcast").delete()
    revision = _template()
    purpose = ConsentPurpose.objects.get(key="bench-marketing")
    largest = max(sizes)
    have = set(
        Contact.objects.filter(email__startswith="bench-bc-").values_list("email", flat=True)
    )
    names = ["Ana", "Jean", "Maria", "Zoé", "Li", "Sam", "", "O'Brien & Co"]
    missing = [
        Contact(email=EMAIL.format(i), first_name=names[i % len(names)], last_name="Example")
        for i in range(largest)
        if EMAIL.format(i) not in have
    ]
    with transaction.atomic():
        Contact.objects.bulk_create(missing, batch_size=5000)
    ids = list(
        Contact.objects.filter(email__startswith="bench-bc-")
        .order_by("pk")
        .values_list("pk", flat=True)[:largest]
    )
    consented = set(
        ConsentRecord.objects.filter(purpose=purpose, contact_id__in=ids).values_list(
            "contact_id", flat=True
        )
    )
    todo = [pk for pk in ids if pk not in consented]
    if todo:
        proto = record_consent(Contact(pk=todo[0]), purpose, "granted", method="import")
        proto.confirmed_at = timezone.now()
        proto.save()
        fields = {
            f.attname: getattr(proto, f.attname)
            for f in ConsentRecord._meta.concrete_fields
            if not f.primary_key and f.attname != "contact_id"
        }
        with transaction.atomic():
            ConsentRecord.objects.bulk_create(
                (ConsentRecord(contact_id=pk, **fields) for pk in todo[1:]), batch_size=5000
            )
    segments = {}
    now = timezone.now()
    for size in sizes:
        segment, _ = Segment.objects.get_or_create(
            name=f"bench-broadcast {size}", defaults={"kind": Segment.Kind.STATIC}
        )
        if segment.memberships.count() != size:
            segment.memberships.all().delete()
            SegmentMembership.objects.bulk_create(
                (
                    SegmentMembership(segment=segment, contact_id=pk, entered_at=now)
                    for pk in ids[:size]
                ),
                batch_size=5000,
            )
        segments[size] = segment.pk
    return {
        "segments": segments,
        "template": revision.object_id,
        "prepare_seconds": time.perf_counter() - started,
    }


# --- the measured worker ------------------------------------------------------------------


def _use_postmark(esp_url: str) -> None:
    from django.conf import settings

    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        **getattr(settings, "ANYMAIL", {}),
        "POSTMARK_SERVER_TOKEN": "bench",
        "POSTMARK_API_URL": esp_url,
    }


def _batch_statements() -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_journey.emails import sending

    with CaptureQueriesContext(connection) as queries:
        sending.send_batch()
    return len(queries.captured_queries)


def worker(size: int, segment_id: int, template_id: int, duration: float, esp_url: str) -> dict:
    import resource

    from django.core.mail import get_connection

    from wagtail_journey.conf import journey_settings
    from wagtail_journey.emails import broadcasts, sending
    from wagtail_journey.models import Broadcast, OutboundEmail
    from wagtail_journey.models.outbound import OutboundStatus

    _use_postmark(esp_url)
    rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    broadcast = Broadcast.objects.create(
        name=f"bench-broadcast {size}", template_id=template_id, segment_id=segment_id
    )
    started = time.perf_counter()
    audience = broadcasts.start(broadcast)
    start_seconds = time.perf_counter() - started

    # The bare loop's messages: built by the pipeline itself before any clock runs.
    conn = get_connection()
    rows = list(
        OutboundEmail.objects.filter(broadcast=broadcast)
        .select_related("contact", "purpose", "revision", "variant")
        .order_by("pk")[:POOL]
    )
    pool = [sending._build(row, conn) for row in rows]

    def bare(seconds: float) -> tuple[int, float]:
        n = 0
        begin = time.perf_counter()
        with conn:
            while True:
                pool[n % len(pool)].send()
                n += 1
                if n % 20 == 0 and time.perf_counter() - begin >= seconds:
                    return n, time.perf_counter() - begin

    def pipeline(seconds: float) -> tuple[int, float]:
        begin = time.perf_counter()
        counts = sending.send_due(seconds=seconds)
        return counts.get("sent", 0), time.perf_counter() - begin

    bare(min(1.0, duration))  # warm-up: connections, imports
    statements = [_batch_statements()]
    rounds: list[dict] = []
    pending = OutboundEmail.objects.filter(broadcast=broadcast, status=OutboundStatus.PENDING)
    order = alternating_order(10_000)
    index = 0
    while pending.exists():
        if len(statements) == 1 and pending.count() <= 2 * journey_settings.EMAIL_BATCH_SIZE:
            statements.append(_batch_statements())  # one more sample near the end
            continue
        per = {}
        for side in order[index]:
            n, seconds = (pipeline if side == FEATURE else bare)(duration)
            per[side] = n / seconds if seconds else 0.0
            per[f"{side}_n"] = n
        rounds.append(per)
        index += 1
        if not per[f"{FEATURE}_n"]:
            break  # nothing more is due (retries wait): do not spin
    sent = OutboundEmail.objects.filter(broadcast=broadcast, status=OutboundStatus.SENT).count()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # A last round may have sent only the remainder: drop it when it ran short.
    full = [r for r in rounds if r.get(f"{FEATURE}_n", 0) > 0]
    if len(full) > 1 and full[-1][f"{FEATURE}_n"] < full[0][f"{FEATURE}_n"] / 2:
        full = full[:-1]
    return {
        "size": size,
        "audience": audience,
        "sent": sent,
        "start_seconds": start_seconds,
        "rounds": full,
        "statements_per_batch": statements,
        "rss_setup_kib": rss_setup,
        "rss_peak_kib": rss_peak,
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("esp", "prepare", "worker"))
    parser.add_argument("--sizes", default="")
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--segment", type=int, default=0)
    parser.add_argument("--template", type=int, default=0)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--esp-url", default="")
    args = parser.parse_args(argv)
    if args.mode == "esp":
        serve_esp()
        return {}
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.mode == "prepare":
        result = prepare([int(s) for s in args.sizes.split(",")])
    else:
        result = worker(args.size, args.segment, args.template, args.duration, args.esp_url)
    print(json.dumps(result))
    return result


# --- the runner's side ----------------------------------------------------------------------


def _sizes(ctx) -> list[int]:
    given = getattr(ctx.args, "broadcast_sizes", None)
    if given:
        return [int(s) for s in given.split(",")]
    return list(QUICK_SIZES if ctx.quick else FULL_SIZES)


def run(ctx) -> BenchResult:
    from bench.database import run_script

    sizes = _sizes(ctx)
    esp = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "esp"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    try:
        esp_url = esp.stdout.readline().strip()
        prepared = run_script(
            ctx.db,
            SETTINGS,
            Path(__file__),
            "prepare",
            "--sizes",
            ",".join(map(str, sizes)),
            timeout=3600,
            echo=ctx.log,
        )
        workers = {}
        for size in sizes:
            workers[size] = run_script(
                ctx.db,
                SETTINGS,
                Path(__file__),
                "worker",
                "--size",
                str(size),
                "--segment",
                str(prepared["segments"][str(size)]),
                "--template",
                str(prepared["template"]),
                "--duration",
                str(ctx.duration),
                "--esp-url",
                esp_url,
                timeout=7200,
                echo=ctx.log,
            )
    finally:
        esp.kill()
        esp.wait(timeout=10)
    figures = []
    notes = [f"data set-up: {prepared['prepare_seconds']:.0f} s (not measured)"]
    for size in sizes:
        w = workers[size]
        feature = [r[FEATURE] for r in w["rounds"]]
        baseline = [r[BASELINE] for r in w["rounds"]]
        figures.append(
            Figure(
                f"emails/s, audience {size:,}",
                "1/s",
                statistics.median(feature),
                statistics.median(baseline),
                target=0.5,
                interval=paired_interval(feature, baseline),
            )
        )
        notes.append(
            f"{size:,}: {w['sent']:,} of {w['audience']:,} sent in {len(w['rounds'])} rounds; "
            f"audience frozen in {w['start_seconds']:.2f} s; SQL statements per batch "
            f"{' / '.join(map(str, w['statements_per_batch']))} (start / end); "
            f"worker peak RSS {w['rss_peak_kib'] / 1024:.0f} MiB "
            f"(after set-up {w['rss_setup_kib'] / 1024:.0f} MiB)"
        )
    small, large = workers[sizes[0]], workers[sizes[-1]]
    figures.append(
        Figure(
            f"worker peak memory, {sizes[-1]:,} vs {sizes[0]:,}",
            "MiB",
            large["rss_peak_kib"] / 1024,
            small["rss_peak_kib"] / 1024,
            higher_is_better=False,
            target=1.1,
        )
    )
    return BenchResult(
        name=NAME,
        title=TITLE,
        figures=figures,
        feature_label="pipeline",
        baseline_label="bare loop",
        params={"sizes": sizes, "prepare": prepared, "workers": workers},
        notes=notes,
    )


if __name__ == "__main__":
    main()
