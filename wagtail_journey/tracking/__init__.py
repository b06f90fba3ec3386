"""Visitor and touchpoint tracking (issue 4); see docs/tracking.md.

- pageviews: the ``on_serve_page`` hook recording Wagtail page views
- visitors: cookies, consent state (modes, GPC/DNT), sessions
- aggregates: anonymous daily counts before consent
- collect: the endpoint journey.js beacons to
- shop: shop events (Python API and HMAC-signed endpoint)
- utm, useragent, stages, attribution, ratelimit, retention: the small parts

Everything that stores a touchpoint goes through ``wagtail_journey.record()``.
"""
