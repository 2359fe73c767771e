"""A concurrency limit per endpoint shared by every worker process and host (TGI_PROTOCOL.md
"Concurrency"): at most ``endpoint.concurrency`` generation requests in flight, in total.

Redis sorted set per endpoint: one member per request in flight (a random token), scored
with the time its lease runs out (Redis server time, so hosts with skewed clocks agree).
Taking a slot is one Lua script: drop the expired leases, count, add when below the limit.
While a request runs, a thread of the process renews its leases every ``lease / 3`` s; a
process killed with SIGKILL renews nothing, so its slots come back after one lease.

    limiter = endpoint_limiter(endpoint=endpoint)
    with limiter.slot(stop=stop_event):  # waits (polling, with jitter) for a free slot
        client.chat(...)

The Redis server is the Celery broker's (``CELERY_BROKER_URL``; the embedded one is
started when needed, as for the broker). Logs carry ids only.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import threading
import time
import uuid
import weakref
from collections.abc import Iterator

from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "elmtex:limiter:"
DEFAULT_LEASE_SECONDS = 30.0
# Polling while every slot is taken: first wait, then up to this (plus jitter).
POLL_MIN_S = 0.003
POLL_MAX_S = 0.05

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000) + 1000)
  return 1
end
return 0
"""
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
return renewed
"""
_IN_FLIGHT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""


class LimiterUnavailable(Exception):
    """Redis (the broker) cannot be reached: no slot can be taken."""


class SlotWaitStopped(Exception):
    """The stop event was set while waiting for a slot."""


_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def redis_client(url: str | None = None):
    """One redis-py client per URL and process (its pool is fork-safe)."""
    import redis

    from elmtex_site.broker import embedded_redis_ensure_for_url, redis_client_url

    url = url or str(settings.CELERY_BROKER_URL)
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            with contextlib.suppress(Exception):
                embedded_redis_ensure_for_url(url)  # as the broker connection would
            client = redis.Redis.from_url(
                redis_client_url(url), socket_timeout=10, socket_connect_timeout=5, health_check_interval=30
            )
            _clients[url] = client
    return client


class ConcurrencyLimiter:
    """At most ``limit`` holders of ``key`` at once across processes (see the module)."""

    def __init__(self, *, key: str, limit: int, lease_s: float = DEFAULT_LEASE_SECONDS, client=None):
        self.key = key
        self.limit = max(1, int(limit))
        self.lease_s = max(1.0, float(lease_s))
        self._redis = client if client is not None else redis_client()
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._renew = self._redis.register_script(_RENEW)
        self._count = self._redis.register_script(_IN_FLIGHT)
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._closed = threading.Event()

    # -- slots ----------------------------------------------------------------------

    def try_acquire(self) -> str | None:
        """A token when a slot was free, else None."""
        import redis

        token = uuid.uuid4().hex
        try:
            ok = self._acquire(keys=[self.key], args=[self.limit, self.lease_s, token])
        except redis.RedisError as exc:
            raise LimiterUnavailable(
                f"the shared concurrency limiter cannot reach Redis ({type(exc).__name__})"
            ) from None
        if not ok:
            return None
        with self._lock:
            self._held.add(token)
        self._renewer_start()
        return token

    def acquire(self, *, stop: threading.Event | None = None, timeout: float | None = None) -> str:
        """Wait for a slot; raises :class:`SlotWaitStopped` when ``stop`` is set first (or
        ``timeout`` seconds pass)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = POLL_MIN_S
        while True:
            token = self.try_acquire()
            if token is not None:
                return token
            pause = delay / 2 + random.uniform(0, delay)  # jitter: waiters do not poll in step
            if deadline is not None and time.monotonic() + pause > deadline:
                raise SlotWaitStopped("no slot within the timeout")
            if stop is not None:
                if stop.wait(pause):
                    raise SlotWaitStopped("stopped while waiting for a slot")
            else:
                time.sleep(pause)
            delay = min(delay * 2, POLL_MAX_S)

    def release(self, token: str) -> None:
        import redis

        with self._lock:
            self._held.discard(token)
        try:
            self._redis.zrem(self.key, token)
        except redis.RedisError:
            logger.warning("limiter %s: could not release a slot (it expires with its lease)", self.key)

    @contextlib.contextmanager
    def slot(self, *, stop: threading.Event | None = None) -> Iterator[str]:
        token = self.acquire(stop=stop)
        try:
            yield token
        finally:
            self.release(token)

    def in_flight(self) -> int:
        """Live leases (all processes)."""
        return int(self._count(keys=[self.key], args=[]))

    def held(self) -> int:
        """Slots this process holds."""
        with self._lock:
            return len(self._held)

    # -- leases ---------------------------------------------------------------------

    def renew(self) -> int:
        """Push the lease of every slot this process holds one lease ahead."""
        with self._lock:
            tokens = list(self._held)
        if not tokens:
            return 0
        return int(self._renew(keys=[self.key], args=[self.lease_s, *tokens]))

    def _renewer_start(self) -> None:
        if self._renewer is not None and self._renewer.is_alive():
            return
        with self._lock:
            if self._renewer is not None and self._renewer.is_alive():
                return
            self._renewer = threading.Thread(
                target=_renew_loop, args=(weakref.ref(self), self.lease_s / 3), daemon=True, name="limiter-renew"
            )
            self._renewer.start()

    def close(self) -> None:
        self._closed.set()


def _renew_loop(ref, interval: float) -> None:
    while True:
        limiter = ref()
        if limiter is None or limiter._closed.wait(0):
            return
        closed = limiter._closed
        try:
            limiter.renew()
        except Exception:  # noqa: BLE001 - Redis away for a moment: the next round tries again
            logger.warning("limiter %s: lease renewal failed", limiter.key)
        with limiter._lock:
            idle = not limiter._held
        del limiter
        if closed.wait(interval):
            return
        if idle:
            # Nothing held: stop; the next acquire starts a new renewer.
            limiter = ref()
            if limiter is None:
                return
            with limiter._lock:
                if not limiter._held:
                    limiter._renewer = None
                    return
            del limiter


def setting_number(name: str, default: float) -> float:
    """A number from the settings, else from the environment (for settings not declared in
    settings.py yet), else ``default``."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, "").strip() or None
    try:
        return float(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def endpoint_limiter_key(*, endpoint_id: int, base_url: str) -> str:
    digest = hashlib.sha1(base_url.rstrip("/").encode()).hexdigest()[:12]
    return f"{KEY_PREFIX}endpoint:{endpoint_id}:{digest}"


_limiters: dict[tuple[str, int], ConcurrencyLimiter] = {}
_limiters_lock = threading.Lock()


def endpoint_limiter(*, endpoint) -> ConcurrencyLimiter:
    """The process's limiter for ``endpoint`` (one per key and limit, reused across batches)."""
    key = endpoint_limiter_key(endpoint_id=endpoint.pk, base_url=endpoint.base_url)
    lease = setting_number("ELMTEX_LIMITER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
    with _limiters_lock:
        limiter = _limiters.get((key, endpoint.concurrency))
        if limiter is None or limiter.lease_s != max(1.0, lease):
            limiter = ConcurrencyLimiter(key=key, limit=endpoint.concurrency, lease_s=lease)
            _limiters[(key, endpoint.concurrency)] = limiter
    return limiter
