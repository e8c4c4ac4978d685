"""The domain as the world sees it, as metrics: ``roost doctor``'s tls and dns
checks run from a scrape of /metrics, at most every
ROOST_EXPOSURE_CHECK_INTERVAL_S (a TLS handshake and a DNS query per scrape
would be waste; a certificate or a record is watched in days and minutes).

The alert rules read the gauges (ops/prometheus/roost.rules.yml:
RoostCertificateExpiresSoon, RoostCertificateDoesNotVerify,
RoostDnsNotPointingHere), so an expiring certificate or a record moved
elsewhere pages with the same words doctor prints.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import structlog

from roost.observability.metrics import Metrics
from roost.ops import netchecks
from roost.ops.doctor import FAIL, OK, WARN, Check, check_dns, check_tls
from roost.services import Services

log = structlog.get_logger(__name__)
PROBE_TIMEOUT_S = 30.0


def observe(metrics: Metrics, host: str, tls: Check, dns: Check) -> None:
    """Set the gauges from the two checks' answers (a check that could not
    say leaves its gauge as it was, or absent)."""
    if "expires" in tls.data:
        expires = datetime.fromisoformat(tls.data["expires"])
        metrics.certificate_expiry.labels(host).set(expires.timestamp())
        metrics.certificate_verifies.labels(host).set(1 if tls.data["verifies"] else 0)
    if dns.status in (OK, WARN):
        metrics.dns_points_here.labels(host).set(0 if dns.data.get("elsewhere") else 1)
    elif dns.status == FAIL:
        metrics.dns_points_here.labels(host).set(0)


class ExposureProbe:
    """Kept on the app: when the last probe is older than the interval, the
    next scrape runs a new one (one at a time)."""

    def __init__(self) -> None:
        self._last = float("-inf")
        self._lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None

    def start(self, svc: Services) -> None:
        """Refresh in the background when due (the scrape does not wait)."""
        due = time.monotonic() - self._last >= svc.settings.exposure_check_interval_s
        if due and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self._quietly(svc), name="roost-exposure-probe")

    async def _quietly(self, svc: Services) -> None:
        try:
            await asyncio.wait_for(self.refresh(svc), PROBE_TIMEOUT_S)
        except Exception:
            # A probe that hangs or breaks leaves the gauges as they were;
            # doctor, run by hand, says why.
            log.warning("exposure_probe_failed", exc_info=True)

    async def refresh(self, svc: Services) -> None:
        interval = svc.settings.exposure_check_interval_s
        if time.monotonic() - self._last < interval:
            return
        async with self._lock:
            if time.monotonic() - self._last < interval:
                return
            self._last = time.monotonic()
            host, _ = netchecks.host_and_port(svc.settings.domain)
            tls, dns = await asyncio.gather(check_tls(svc), check_dns(svc))
            observe(svc.metrics, host, tls, dns)
