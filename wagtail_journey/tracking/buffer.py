"""Buffered tracking: page views and journey.js events leave the request in one Redis call.

With ``TRACKING_BUFFER`` naming a Redis cache alias, the request path no
longer writes touchpoints: it appends a compact JSON item to a Redis list
(``push``) and answers. A django-q2 task (``flush``) stores the items in bulk
through :func:`wagtail_journey.events.record_batch`, the bulk form of
``record()``, so reactions run as they would have inline.

Nothing is lost between the two, even when a worker dies mid-flush:

1. a Lua script moves a batch from the queue to a list of its own and notes
   the batch in an "in flight" sorted set, in one atomic step (``_CLAIM``);
2. the batch is stored in one database transaction together with a
   ``TrackingBatch`` row holding its id (unique), so a batch is committed
   exactly once however often it is retried;
3. only after the commit are its list and in-flight entry deleted.

A batch still in flight after ``TRACKING_BUFFER_STALE_SECONDS`` belonged to
a worker that died; :func:`recover` (every flush, and a schedule every
minute) stores it again, or just forgets it when its row shows it committed.

The first item pushed into an empty queue queues a flush task that waits
``TRACKING_BUFFER_GATHER_SECONDS`` for more items before it stores them; a
queue reaching a multiple of ``TRACKING_BUFFER_BATCH`` queues one that
stores at once. So a quiet site sees its touchpoints about a second late, and
a busy one stores hundreds per transaction.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from django.core.cache import caches
from django.db import transaction

from wagtail_journey.conf import journey_settings

logger = logging.getLogger(__name__)

FLUSH_TASK = "wagtail_journey.tracking.buffer.flush"
try:
    from redis.exceptions import RedisError

    #: What a push raises when Redis fails (unreachable, read-only, out of
    #: memory): callers fall back to storing directly.
    REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError,)
except ImportError:  # without the redis extra there is no buffer (check E013)
    REDIS_ERRORS = ()
SCHEDULE_NAME = "journey-tracking-buffer"

# KEYS: queue, batch list, in-flight set. ARGV: batch size, now, batch id.
_CLAIM = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items == 0 then return items end
redis.call('LTRIM', KEYS[1], #items, -1)
for i = 1, #items, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return items
"""
# KEYS: in-flight set. ARGV: batch id, stale before, now. Takes over a stale
# batch only if nobody else has since (its score is still old).
_TAKE_OVER = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
"""


def enabled() -> bool:
    return bool(journey_settings.TRACKING_BUFFER)


def _client():
    from wagtail_journey.ratelimit import redis_client

    return redis_client(caches[journey_settings.TRACKING_BUFFER])


def _script(source: str):
    from wagtail_journey.ratelimit import redis_script

    return redis_script(caches[journey_settings.TRACKING_BUFFER], source)


def _key(name: str) -> str:
    # One hash tag keeps the buffer's own keys on one slot, should Redis ever
    # be a cluster (Django's RedisCache is not cluster-aware today, and the
    # visitor's rate-limit counter that _COUNT_AND_PUSH also touches has none).
    cache = caches[journey_settings.TRACKING_BUFFER]
    return cache.make_and_validate_key(f"wj-buffer:{{q}}:{name}")


def item(
    kind: str,
    *,
    visitor,
    audience_only: bool,
    page_id: int | None = None,
    session: int | None = None,
    device: int | None = None,
    journey_stage: str = "",
    utm: dict | None = None,
    properties: dict | None = None,
    new_session: bool = False,
) -> dict[str, Any]:
    """One buffered touchpoint, in the short keys ``record_batch`` reads."""
    data: dict[str, Any] = {"k": kind, "t": time.time(), "v": visitor.pk}
    if not audience_only and visitor.contact_id:
        # The person this browser belonged to when it happened: a later
        # identification as someone else (a shared browser) must not take it.
        data["c"] = visitor.contact_id
    for key, value in (
        ("a", audience_only),
        ("p", page_id),
        ("s", session),
        ("d", device),
        ("j", journey_stage),
        ("u", utm),
        ("x", properties),
        ("n", new_session),
    ):
        if value:
            data[key] = value
    return data


# KEYS: queue, rate-limit counter. ARGV: counter expiry, limit, items...
_COUNT_AND_PUSH = """
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
if n > tonumber(ARGV[2]) then return -1 end
return redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
"""


def _encode(items) -> list[str]:
    return [json.dumps(i, separators=(",", ":")) for i in items]


def push(*items: dict[str, Any]) -> None:
    """Append items to the queue (one round trip) and queue a flush when one is due."""
    if items:
        _queued(int(_client().rpush(_key("queue"), *_encode(items))), len(items))


def push_limited(
    items: list[dict[str, Any]], scope: str, ident: str, limit: int, window: int
) -> bool:
    """Count one hit of ``ident`` against a rate limit, then push ``items`` if allowed.

    One round trip when the rate limit counts on the buffer's own Redis (the
    counter is the one :func:`wagtail_journey.ratelimit.hit` keeps); two
    otherwise. False, and nothing pushed, past the limit.
    """
    from wagtail_journey import ratelimit

    if limit <= 0:
        return False
    counter = None
    if journey_settings.RATE_LIMIT_CACHE == journey_settings.TRACKING_BUFFER:
        counter = ratelimit.redis_counter(scope, ident, window)
    if counter is None:
        if not ratelimit.hit(scope, ident, limit, window):
            return False
        push(*items)
        return True
    if not items:
        return True
    key, expiry = counter
    length = int(
        _script(_COUNT_AND_PUSH)(keys=[_key("queue"), key], args=[expiry, limit, *_encode(items)])
    )
    if length < 0:
        return False
    _queued(length, len(items))
    return True


def _queued(length: int, added: int) -> None:
    batch = int(journey_settings.TRACKING_BUFFER_BATCH)
    if length // batch != (length - added) // batch:
        _queue_flush()  # a full batch is waiting: store it now
    elif length == added:
        _queue_flush(gather=True)  # the first item of an empty queue


def _queue_flush(gather: bool = False) -> None:
    from django_q.conf import Conf
    from django_q.tasks import async_task

    if Conf.SYNC:  # the task would run here, in the request: never sleep there
        gather = False

    try:
        async_task(FLUSH_TASK, gather=gather, task_name="journey-tracking-flush", save=False)
    except Exception:  # the minute schedule flushes anyway; never fail a page for it
        logger.exception("wagtail_journey: could not queue a tracking flush")


def pending() -> int:
    """Items waiting in the queue (not counting batches in flight)."""
    return int(_client().llen(_key("queue")))


def in_flight() -> int:
    return int(_client().zcard(_key("inflight")))


def flush(max_batches: int = 100, *, gather: bool = False) -> int:
    """Store queued items in batches; returns how many touchpoints were stored.

    ``gather`` (the task queued by the first item of an empty queue) first
    waits ``TRACKING_BUFFER_GATHER_SECONDS`` unless a full batch is already
    there: a task and a transaction per handful of items would cost more
    than the items (bench: 7 ms of CPU for a batch of one, 0.06 ms an item
    in a batch of 500). The wait sleeps; it takes no CPU.
    Stops after ``max_batches`` so one task never runs unbounded; a full
    batch at the end queues the next task.
    """
    if not enabled():
        return 0
    size = int(journey_settings.TRACKING_BUFFER_BATCH)
    if gather and pending() < size:
        time.sleep(float(journey_settings.TRACKING_BUFFER_GATHER_SECONDS))
    stored = recover()
    claim = _script(_CLAIM)
    for _ in range(max_batches):
        batch_id = uuid.uuid4().hex
        raw = claim(
            keys=[_key("queue"), _key(f"batch:{batch_id}"), _key("inflight")],
            args=[size, time.time(), batch_id],
        )
        if not raw:
            return stored
        stored += store_batch(batch_id, raw)
        if len(raw) < size:
            return stored
    _queue_flush()
    return stored


def store_batch(batch_id: str, raw: list[bytes | str]) -> int:
    """Commit one claimed batch exactly once, then forget it in Redis.

    If the batch fails as a whole (an item the database refuses, a bug in a
    reaction), it is stored again item by item, each in a savepoint: the good
    items are kept and each bad one goes to the dead-letter list (logged,
    ``dead_letters()``), so one bad beacon never holds back 499 others.
    A failure of the database itself leaves the batch in flight for recovery.
    """
    from wagtail_journey.models import TrackingBatch

    items = [json.loads(r) for r in raw]
    try:
        with transaction.atomic():
            # Inserted first: a second worker on the same batch waits here for
            # the first one's transaction, then fails on the unique key.
            TrackingBatch.objects.create(key=batch_id)
            stored = _store(items)
    except Exception:
        if TrackingBatch.objects.filter(key=batch_id).exists():
            logger.info("wagtail_journey: tracking batch %s was already stored", batch_id)
            stored = 0
        else:
            logger.exception("wagtail_journey: tracking batch %s failed; item by item", batch_id)
            stored = _store_one_by_one(batch_id, items)
    pipe = _client().pipeline(transaction=False)
    pipe.delete(_key(f"batch:{batch_id}"))
    pipe.zrem(_key("inflight"), batch_id)
    pipe.execute()
    return stored


def _store(items: list[dict[str, Any]]) -> int:
    from wagtail_journey.events import record_batch

    return len(record_batch(items))


def _store_one_by_one(batch_id: str, items: list[dict[str, Any]]) -> int:
    from wagtail_journey.models import TrackingBatch

    stored, dead = 0, []
    with transaction.atomic():
        TrackingBatch.objects.create(key=batch_id)
        for item in items:
            try:
                with transaction.atomic():
                    stored += _store([item])
            except Exception:
                logger.exception("wagtail_journey: tracking item refused: %r", item)
                dead.append(json.dumps(item, separators=(",", ":")))
    if dead:
        _client().rpush(_key("dead"), *dead)
    return stored


def dead_letters() -> int:
    """Items the database refused, kept in Redis for a developer to look at."""
    return int(_client().llen(_key("dead")))


def recover(stale_seconds: float | None = None) -> int:
    """Store the batches of workers that died mid-flush; returns touchpoints stored."""
    if stale_seconds is None:
        stale_seconds = float(journey_settings.TRACKING_BUFFER_STALE_SECONDS)
    client = _client()
    before = time.time() - stale_seconds
    stale = client.zrangebyscore(_key("inflight"), "-inf", before)
    take_over = _script(_TAKE_OVER)
    stored = 0
    for batch_id in stale:
        batch_id = batch_id.decode() if isinstance(batch_id, bytes) else batch_id
        # Another worker may be recovering it too: one takes it over (the
        # unique TrackingBatch row would stop a second commit anyway).
        if not take_over(keys=[_key("inflight")], args=[batch_id, before, time.time()]):
            continue
        raw = client.lrange(_key(f"batch:{batch_id}"), 0, -1)
        logger.warning(
            "wagtail_journey: recovering tracking batch %s (%s items)", batch_id, len(raw)
        )
        try:
            stored += store_batch(batch_id, raw)
        except Exception:  # still failing (database away?): new items must still flow
            logger.exception("wagtail_journey: could not recover tracking batch %s", batch_id)
    return stored


def drain(timeout: float = 30.0) -> int:
    """Flush until the queue is empty (tests, benchmarks and ``journey_flush``)."""
    deadline = time.monotonic() + timeout
    stored = 0
    while time.monotonic() < deadline:
        stored += flush()
        if not pending() and not in_flight():
            return stored
        time.sleep(0.05)
    return stored
