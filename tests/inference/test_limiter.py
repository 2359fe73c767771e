"""The shared concurrency limiter (inference/limiter.py) on the test Redis: the limit holds
across threads and processes, slots of a killed process come back after one lease,
leases are renewed while a request runs."""

import multiprocessing
import threading
import time
import uuid

import pytest
from django.conf import settings

from inference.limiter import ConcurrencyLimiter, LimiterUnavailable, SlotWaitStopped, redis_client


def key() -> str:
    return f"elmtex:limiter:test:{uuid.uuid4().hex}"


@pytest.fixture
def redis_or_skip():
    try:
        client = redis_client()
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no Redis at CELERY_BROKER_URL ({type(exc).__name__})")
    return client


def test_at_most_limit_slots_at_once_across_threads(redis_or_skip):
    limiter = ConcurrencyLimiter(key=key(), limit=3)
    peak, now, lock = [0], [0], threading.Lock()

    def hold():
        with limiter.slot():
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
            time.sleep(0.02)
            with lock:
                now[0] -= 1

    threads = [threading.Thread(target=hold) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3
    assert limiter.in_flight() == 0


def _child_holds(key_name: str, url: str, limit: int, ready, release) -> None:
    limiter = ConcurrencyLimiter(key=key_name, limit=limit, client=redis_client(url))
    token = limiter.acquire(timeout=5)
    ready.set()
    release.wait(10)
    limiter.release(token)


def test_the_limit_holds_across_processes(redis_or_skip):
    name = key()
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_child_holds, args=(name, str(settings.CELERY_BROKER_URL), 2, ready, release))
    child.start()
    try:
        assert ready.wait(30)
        here = ConcurrencyLimiter(key=name, limit=2)
        first = here.try_acquire()
        assert first is not None
        assert here.try_acquire() is None  # the child holds the other slot
        release.set()
        child.join(10)
        assert here.acquire(timeout=2)  # the child's slot is back
    finally:
        release.set()
        child.join(10)


def test_slots_of_a_vanished_holder_come_back_after_the_lease(redis_or_skip):
    name = key()
    dead = ConcurrencyLimiter(key=name, limit=1, lease_s=1)
    assert dead.try_acquire() is not None
    dead.close()  # as after SIGKILL: nobody renews or releases
    with dead._lock:
        dead._held.clear()
    other = ConcurrencyLimiter(key=name, limit=1, lease_s=1)
    assert other.try_acquire() is None
    assert other.acquire(timeout=5) is not None  # the lease ran out


def test_leases_are_renewed_while_held(redis_or_skip):
    limiter = ConcurrencyLimiter(key=key(), limit=1, lease_s=1)
    token = limiter.try_acquire()
    assert token is not None
    time.sleep(2.5)  # more than two leases: the renewer (every lease/3) kept it
    other = ConcurrencyLimiter(key=limiter.key, limit=1, lease_s=1)
    assert other.try_acquire() is None
    limiter.release(token)
    assert other.try_acquire() is not None


def test_waiting_for_a_slot_ends_when_the_batch_stops(redis_or_skip):
    limiter = ConcurrencyLimiter(key=key(), limit=1)
    limiter.try_acquire()
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    with pytest.raises(SlotWaitStopped):
        limiter.acquire(stop=stop)


def test_redis_not_answering_is_a_clear_error():
    import redis

    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    limiter = ConcurrencyLimiter(key=key(), limit=1, client=client)
    with pytest.raises(LimiterUnavailable, match="Redis"):
        limiter.try_acquire()
