"""Benchmark: personalised email renders per second vs str.format of the same HTML.

    make bench BENCH_ARGS="--only emailrender [--quick] [--rounds 12 --duration 5]"

bench/run.py runs this file as a script (main()) on the bench database.

A typical newsletter template (heading, paragraphs with merge tags, two
columns, a product card, buttons, footer: 6 links) is published once. The
feature renders it for one contact after another through ``render_email``
(the revision compiled by MJML once, then cached; per contact: merge-tag
values escaped into the HTML and the text part), once without and once with
click tracking (every link signed through ``tracked_url``). The baseline is
the cheapest possible personalisation of the very same output: the rendered
HTML and text with ``{first_name}``-style fields filled by ``str.format``
(no escaping, no link wrapping). ABBA rounds of ``--duration`` seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import BASELINE, FEATURE, BenchResult, Figure, alternating_order, paired_interval

NAME = "emailrender"
TITLE = "Personalised email renders/s vs str.format of the same HTML"
SETTINGS = "bench.settings_journey"
CONTACTS = 1000


def _template():
    """A published newsletter-like template with merge tags and six links."""
    from wagtail_journey.models import ConsentPurpose, EmailTemplate

    purpose, _ = ConsentPurpose.objects.get_or_create(
        key="bench-marketing",
        defaults={"name": "Bench marketing", "text": "<p>News</p>", "is_marketing": True},
    )
    EmailTemplate.objects.filter(name="Bench newsletter").delete()
    card = {
        "image": None,
        "title": "Team plan for {{ first_name }}",
        "text": "<p>Everything in Starter, for five editors.</p>",
        "price": "€49 / month",
        "button_label": "See pricing",
        "button_url": "https://shop.example/pricing?utm_source=newsletter",
    }
    body = [
        {
            "type": "heading",
            "value": {
                "text": 'Hello {{ first_name|default:"there" }}!',
                "size": "h1",
                "align": "left",
            },
        },
        {
            "type": "paragraph",
            "value": "<p>Here is what is new this month, "
            "{{ full_name|default:&quot;friend&quot; }}. "
            'Read <a href="https://shop.example/blog/consent">our article on consent</a> and '
            '<a href="https://shop.example/blog/stories">three customer stories</a>.</p>'
            "<ul><li>One honest checkbox</li><li>No bought lists</li></ul>",
        },
        {
            "type": "button",
            "value": {
                "label": "Read the blog",
                "url": "https://shop.example/blog",
                "align": "center",
            },
        },
        {"type": "divider", "value": None},
        {
            "type": "two_columns",
            "value": {
                "left": [
                    {
                        "type": "heading",
                        "value": {"text": "Customer stories", "size": "h3", "align": "left"},
                    },
                    {
                        "type": "paragraph",
                        "value": "<p>How a bakery doubled its sign-ups. "
                        '<a href="https://shop.example/stories/bakery">Read it</a>.</p>',
                    },
                ],
                "right": [{"type": "card", "value": card}],
            },
        },
        {
            "type": "button",
            "value": {"label": "Shop now", "url": "https://shop.example/sale", "align": "center"},
        },
        {
            "type": "footer",
            "value": {
                "text": "<p>You subscribed on our site, {{ email }}.</p>",
                "address": "Acme Lda.\nRua do Exemplo 1\nLisboa",
            },
        },
    ]
    template = EmailTemplate.objects.create(
        name="Bench newsletter",
        subject='News for {{ first_name|default:"you" }}',
        preheader="Stories and an offer",
        purpose=purpose,
        body=json.dumps(body),
    )
    revision = template.save_revision()
    revision.publish()
    return revision


def _contexts() -> list[dict]:
    names = ["Ana", "Jean", "Maria", "Zoé", "Li", "Sam", "", "O'Brien & Co"]
    return [
        {
            "first_name": names[i % len(names)],
            "full_name": f"{names[i % len(names)]} Example".strip(),
            "email": f"person{i}@example.com",
            "unsubscribe_url": f"https://site.example/journey/unsubscribe/token{i}/",
        }
        for i in range(CONTACTS)
    ]


def _format_baseline(revision) -> tuple[str, str, str]:
    """The same output as str.format templates: the feature's own render for a
    contact whose values are {field} placeholders (braces of CSS escaped)."""
    from wagtail_journey.emails.rendering import render_email

    fields = {
        "first_name": "\x01first_name\x02",
        "full_name": "\x01full_name\x02",
        "email": "\x01email\x02",
        "unsubscribe_url": "\x01unsubscribe_url\x02",
    }
    email = render_email(revision, fields)

    def fmt(s: str) -> str:
        s = s.replace("{", "{{").replace("}", "}}")
        return s.replace("\x01", "{").replace("\x02", "}")

    return fmt(email.subject), fmt(email.html), fmt(email.text)


def _loop(render, contexts, seconds: float) -> tuple[int, float]:
    n = 0
    i = 0
    size = len(contexts)
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            render(contexts[i], i)
            i = (i + 1) % size
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n, now - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=3.0)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from wagtail_journey.emails import rendering
    from wagtail_journey.emails.clicks import tracked_url
    from wagtail_journey.emails.rendering import render_email

    revision = _template()
    contexts = _contexts()
    rendering.clear_cache()
    start = time.perf_counter()
    render_email(revision, contexts[0])
    compile_ms = (time.perf_counter() - start) * 1000
    subject_t, html_t, text_t = _format_baseline(revision)

    def plain(ctx, i):
        return render_email(revision, ctx)

    def tracked(ctx, i):
        return render_email(revision, ctx, wrap_link=lambda url: tracked_url(i, url))

    def baseline(ctx, i):
        return (subject_t.format(**ctx), html_t.format(**ctx), text_t.format(**ctx))

    sides = {"plain": plain, "tracked": tracked}
    results: dict[str, dict[str, list[float]]] = {}
    for name, feature in sides.items():
        fns = {FEATURE: feature, BASELINE: baseline}
        for fn in fns.values():  # warm-up
            _loop(fn, contexts, 0.5)
        per = {FEATURE: [], BASELINE: []}
        for order in alternating_order(args.rounds):
            for side in order:
                n, seconds = _loop(fns[side], contexts, args.duration)
                per[side].append(n / seconds)
        results[name] = per
    html_bytes = len(render_email(revision, contexts[0]).html)
    result = {"compile_ms": compile_ms, "html_bytes": html_bytes, "results": results}
    for name, per in results.items():
        f, b = statistics.median(per[FEATURE]), statistics.median(per[BASELINE])
        print(f"  {name:8} render_email {f:,.0f}/s, str.format {b:,.0f}/s, ratio {f / b:.3f}")
    print(f"  compile (MJML + text) once per revision: {compile_ms:.1f} ms, HTML {html_bytes:,} B")
    print(json.dumps(result))
    return result


def run(ctx) -> BenchResult:
    from bench.database import run_script

    args = ("--rounds", str(ctx.rounds), "--duration", str(ctx.duration))
    r = run_script(ctx.db, SETTINGS, Path(__file__), *args, timeout=3600, echo=ctx.log)
    figures = []
    for name, label in (
        ("plain", "renders, no click tracking"),
        ("tracked", "renders, links signed"),
    ):
        per = r["results"][name]
        figures.append(
            Figure(
                label,
                "1/s",
                statistics.median(per[FEATURE]),
                statistics.median(per[BASELINE]),
                interval=paired_interval(per[FEATURE], per[BASELINE]),
            )
        )
    return BenchResult(
        name=NAME,
        title=TITLE,
        figures=figures,
        feature_label="render_email",
        baseline_label="str.format",
        params=r,
        notes=[
            f"MJML + text part once per revision: {r['compile_ms']:.1f} ms; "
            f"HTML {r['html_bytes']:,} bytes; one process, one thread",
        ],
    )


if __name__ == "__main__":
    main()
