"""What stands between a batch's threads and the endpoint: the shared concurrency limit
(``inference.limiter``) around every generation request, and the count of consecutive
connection errors that pauses a run whose endpoint went away.

Pure of the database (runs in the batch's worker threads); ``processing`` decides what a
stop means for the run.
"""

from __future__ import annotations

import random
import threading

from ..client import Completion, GenerationParams, TGIClient, TGIOverloaded, TGIUnavailable
from ..limiter import POLL_MAX_S, POLL_MIN_S, ConcurrencyLimiter, LimiterUnavailable
from .retry import Stopped

DEFAULT_PAUSE_AFTER = 50


class FailureStreak:
    """Consecutive connection errors (connection refused/reset, DNS, ...) of one batch's
    requests, across its threads. Any answer from the server (even an error status) ends
    the streak. Reaching ``limit`` sets ``stop`` and keeps the last error as the reason."""

    def __init__(self, *, limit: int, stop: threading.Event):
        self.limit = max(1, limit)
        self.stop = stop
        self.count = 0
        self.tripped = False
        self.last_error = ""
        self._lock = threading.Lock()

    def failure(self, error: str) -> None:
        with self._lock:
            self.count += 1
            self.last_error = error
            if self.count >= self.limit and not self.tripped:
                self.tripped = True
                self.stop.set()

    def success(self) -> None:
        if self.count:  # read without the lock: the common case costs nothing
            with self._lock:
                if not self.tripped:
                    self.count = 0


class LimitedClient:
    """A :class:`TGIClient` whose generation requests each hold a slot of the endpoint's
    shared limit while they are on the wire (backoff sleeps hold none). Slots taken from
    Redis stay with this client between requests, so a thread whose request ends hands
    its slot to a thread with a request ready without a Redis round trip;
    :meth:`release_current` (a thread with nothing left to send) and :meth:`release_all`
    (the batch's end) give them back. ``count_tokens``
    is not a generation and is not limited (TGI's semaphore does not cover /tokenize).

    Waiting for a slot ends with :class:`~inference.services.retry.Stopped` when the batch
    stops; Redis not answering raises :class:`~inference.limiter.LimiterUnavailable`."""

    def __init__(
        self,
        client: TGIClient,
        *,
        limiter: ConcurrencyLimiter,
        stop: threading.Event,
        streak: FailureStreak,
        count_bound: tuple[int, int, int] | None = None,
    ):
        self._client = client
        self._limiter = limiter
        self._stop = stop
        self._streak = streak
        self._count_bound = count_bound
        self._cond = threading.Condition()
        self._held: set[str] = set()  # slots this client holds in the shared limit
        self._free: list[str] = []  # ... of which no thread is using these now

    def count_tokens(self, text: str) -> int | None:
        """The server's count (``/tokenize``, one request), except for chat runs whose
        prompt is surely short: with ``count_bound = (max_input_tokens, max_total_tokens,
        max_new_tokens)``, a prompt of B UTF-8 bytes has at most B tokens (every token
        covers at least one byte), so when B <= max_input_tokens and B + max_new_tokens <=
        max_total_tokens the exact count would change no decision (not too long, the full
        max_new_tokens fit) and B is returned instead. Chat answers carry the exact
        ``usage.prompt_tokens``, which is what gets recorded."""
        if self._count_bound is not None:
            max_input, max_total, max_new = self._count_bound
            size = len(text.encode("utf-8"))
            if size <= max_input and size + max_new <= max_total:
                return size
        return self._client.count_tokens(text)

    def _take(self) -> str:
        """A slot: one this process holds and no thread uses (no Redis call), else a new
        one from the shared limit, else wait for either."""
        delay = POLL_MIN_S
        while True:
            if self._stop.is_set():
                raise Stopped
            with self._cond:
                if self._free:
                    return self._free.pop()
                if len(self._held) >= self._limiter.limit:  # all slots are ours: no use asking Redis
                    self._cond.wait(POLL_MAX_S)
                    continue
            token = self._limiter.try_acquire()
            if token is not None:
                with self._cond:
                    self._held.add(token)
                return token
            with self._cond:
                if not self._free:
                    self._cond.wait(delay / 2 + random.uniform(0, delay))  # a local put wakes it
            delay = min(delay * 2, POLL_MAX_S)

    def _put(self, token: str, *, keep: bool) -> None:
        """After a request: keep the slot for this process's next request, or give it
        back to the shared limit (before a backoff sleep, once stopped)."""
        with self._cond:
            if keep:
                self._free.append(token)
                self._cond.notify()
                return
            self._held.discard(token)
        self._limiter.release(token)

    def _limited(self, call):
        # Slots stay with the process between its requests (no Redis round trip per
        # request); release_current/release_all give them back when the batch runs dry.
        token = self._take()
        try:
            result = call()
        except TGIUnavailable as exc:
            self._streak.failure(str(exc))
            self._put(token, keep=False)
            raise
        except TGIOverloaded:
            self._streak.success()  # the server answered: it is there, only busy
            self._put(token, keep=False)
            raise
        except BaseException:
            self._streak.success()  # the server answered (with an error), or a bug here
            self._put(token, keep=not self._stop.is_set())
            raise
        self._streak.success()
        self._put(token, keep=not self._stop.is_set())
        return result

    def release_current(self) -> None:
        """A thread with no document left to send gives one idle slot back."""
        with self._cond:
            token = self._free.pop() if self._free else None
            if token is not None:
                self._held.discard(token)
        if token is not None:
            self._limiter.release(token)

    def release_all(self) -> None:
        """Give back every slot the batch still holds (call once its threads are done)."""
        with self._cond:
            tokens = list(self._held)
            self._held.clear()
            self._free.clear()
        for token in tokens:
            self._limiter.release(token)

    def generate(self, prompt: str, *, params: GenerationParams, schema: dict | None = None) -> Completion:
        return self._limited(lambda: self._client.generate(prompt, params=params, schema=schema))

    def chat(self, messages: list[dict], *, params: GenerationParams, schema: dict | None = None) -> Completion:
        return self._limited(lambda: self._client.chat(messages, params=params, schema=schema))


__all__ = ["DEFAULT_PAUSE_AFTER", "FailureStreak", "LimitedClient", "LimiterUnavailable"]
