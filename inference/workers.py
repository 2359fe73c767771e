"""Are Celery workers there? (``--wait`` asks before it waits for a run.)"""

from __future__ import annotations

import time

from elmtex_site.broker import broker_url_display
from elmtex_site.errors import ApplicationError

START_HINT = "start one with `celery -A elmtex_site worker`"


def broker_url() -> str:
    from elmtex_site.celery import app

    return str(app.conf.broker_write_url or app.conf.broker_url or "")


def broker_display() -> str:
    """The broker URL without its password."""
    return broker_url_display(broker_url())


def _broker_check(timeout: float) -> None:
    from elmtex_site.celery import app

    try:
        with app.connection_for_write(broker_url()) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=max(timeout, 1.0))
    except Exception as exc:  # noqa: BLE001 - kombu and redis raise many types for the same "not there"
        raise ApplicationError(
            f"the Celery broker at {broker_display()} cannot be reached ({type(exc).__name__}); "
            f"start Redis (e.g. `redis-server`) or set CELERY_BROKER_URL, then {START_HINT}"
        ) from None


def workers_answering(timeout: float) -> list[str]:
    """Names of the workers that answer a ping within ``timeout`` seconds (empty when
    none). The broker not answering is an :class:`ApplicationError` saying what to do."""
    from elmtex_site.celery import app

    _broker_check(timeout)
    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception as exc:  # noqa: BLE001
        raise ApplicationError(
            f"the Celery broker at {broker_display()} cannot be reached ({type(exc).__name__}); "
            f"start Redis, then {START_HINT}"
        ) from None
    return sorted(name for reply in replies for name in reply)


def workers_for_queue(queue: str, names: list[str], timeout: float) -> list[str]:
    """Of ``names``, those consuming ``queue`` (a worker started with ``-Q gpu`` alone
    would never take an inference batch)."""
    from elmtex_site.celery import app

    try:
        active = app.control.inspect(destination=names, timeout=timeout).active_queues() or {}
    except Exception:  # noqa: BLE001 - cannot tell: trust the ping
        return names
    if not active:
        return names  # no answer to inspect in time: trust the ping
    return sorted(name for name, queues in active.items() if any(q.get("name") == queue for q in queues or ()))


def workers_wait(*, queue: str, within: float) -> list[str]:
    """Ping until a worker consuming ``queue`` answers or ``within`` seconds have passed;
    returns their names (empty: none)."""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        names = workers_answering(timeout=max(0.2, min(1.0, left)))
        if names:
            consuming = workers_for_queue(queue, names, timeout=max(0.2, min(1.0, deadline - time.monotonic())))
            if consuming:
                return consuming
        if deadline - time.monotonic() <= 0.2:
            return []
