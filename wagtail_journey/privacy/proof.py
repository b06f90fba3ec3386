"""Proof data kept with a consent record: the client's IP (as configured) and user agent."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

from wagtail_journey.conf import journey_settings


def ip_for_proof(ip: str, mode: str | None = None) -> str:
    """Reduce an IP per CONSENT_IP_PROOF: truncate (/24, /48), hash (keyed), full or none."""
    mode = mode or journey_settings.CONSENT_IP_PROOF
    if not ip or mode == "none":
        return ""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if mode == "full":
        return str(addr)
    if mode == "hash":
        key = settings.SECRET_KEY.encode()
        return "sha256:" + hmac.new(key, str(addr).encode(), hashlib.sha256).hexdigest()[:32]
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def user_agent(request: HttpRequest) -> str:
    return (request.META.get("HTTP_USER_AGENT", "") or "")[:400]
