"""Bots and device classes from the User-Agent, with the maintained ``ua-parser``.

ua-parser (uap-core's regexes, with a native accelerator) marks crawlers as the
device family "Spider"; we rely on it rather than a hand-written bot regex.
Results are cached per user-agent string: a site sees few distinct ones.
"""

from __future__ import annotations

from functools import lru_cache

from wagtail_journey.models import DeviceClass

_MAX_UA = 512


@lru_cache(maxsize=4096)
def _classify(ua: str) -> tuple[bool, int]:
    from ua_parser import parse

    result = parse(ua)
    family = result.device.family if result.device else ""
    if family == "Spider":
        return True, DeviceClass.DESKTOP
    os_family = result.os.family if result.os else ""
    if family == "iPad" or "Tablet" in ua or (os_family == "Android" and "Mobile" not in ua):
        return False, DeviceClass.TABLET
    if family == "iPhone" or "Mobi" in ua or os_family in ("iOS", "Android"):
        return False, DeviceClass.MOBILE
    return False, DeviceClass.DESKTOP


def classify(user_agent: str | None) -> tuple[bool, int]:
    """``(is_bot, device_class)``; an empty user agent counts as a bot."""
    ua = (user_agent or "").strip()[:_MAX_UA]
    if not ua:
        return True, DeviceClass.DESKTOP
    return _classify(ua)


def is_bot(user_agent: str | None) -> bool:
    return classify(user_agent)[0]
