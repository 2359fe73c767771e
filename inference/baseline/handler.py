"""The HTTP side of the baseline server: routes, bodies, SSE, the knobs applied per request.

``self.server`` is a :class:`~inference.baseline.server.BaselineServer` (knobs, metrics,
seeded draws, the stop event).
"""

from __future__ import annotations

import json
import logging
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from .protocol import (
    PAYLOAD_LIMIT,
    Generation,
    ProtocolError,
    chat_request,
    generate_request,
    parse_json_body,
    shape_error,
    tgi_error,
    token_count,
    token_dict,
    tokenize,
)
from .responses import Output, chat_body, chat_chunks, completion_text, finish, generate_body, stream_events

logger = logging.getLogger("elmtex.baseline")

DRAIN_LIMIT = 64 * 1024 * 1024  # an oversized body is read and dropped up to here, so the 413 arrives
GARBAGE = (
    "I'm sorry, but I cannot summarise this report in the requested format.",
    "The report describes a patient. The requested fields are listed above; see the report for details.",
    "Summary: see report (N/A)",
)
GENERATION_PATHS = {
    "/": "compat",
    "/generate": "generate",
    "/generate_stream": "stream",
    "/v1/chat/completions": "chat",
}
ROUTES = {
    **dict.fromkeys(GENERATION_PATHS, "POST"),
    "/tokenize": "POST",
    "/info": "GET",
    "/health": "GET",
    "/metrics": "GET",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK (~40 ms a response). TGI's server sends without that delay.
    disable_nagle_algorithm = True
    server_version = "text-generation-router"
    sys_version = ""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        logger.debug("%s " + format, self.address_string(), *args)

    # -- dispatch ------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self._sent = False
        path = urlsplit(self.path).path
        try:
            if path not in ROUTES:
                self._drain()
                return self._send(404, b"", "text/plain")
            if ROUTES[path] != method:
                self._drain()
                return self._send(405, b"", "text/plain")
            if path in GENERATION_PATHS:
                return self._generation(GENERATION_PATHS[path])
            if path == "/tokenize":
                data = self._json_body()
                inputs = data.get("inputs")
                if not isinstance(inputs, str):
                    raise shape_error("missing field `inputs`" if inputs is None else "inputs: expected a string")
                return self._json(200, [token_dict(t) for t in tokenize(inputs)])
            if path == "/info":
                return self._json(200, self.server.info())
            if path == "/health":
                return self._send(200, b"", "text/plain")
            return self._send(200, self.server.metrics.render().encode(), "text/plain; version=0.0.4")
        except ProtocolError as exc:
            self._error(exc)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception as exc:  # noqa: BLE001 - a request must never take the server down
            logger.warning("request %s %s failed: %s", method, path, type(exc).__name__)
            if not self._sent:
                self._error(tgi_error(500))
            self.close_connection = True

    # -- bodies --------------------------------------------------------------------

    def _drain(self) -> bytes:
        """Read the request body (so the answer is not lost to a reset connection)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ProtocolError(400, "Invalid `Content-Length` header") from None
        if length > PAYLOAD_LIMIT:
            if length <= DRAIN_LIMIT:
                while length > 0:
                    chunk = self.rfile.read(min(length, 1 << 20))
                    if not chunk:
                        break
                    length -= len(chunk)
            else:
                self.close_connection = True
            raise ProtocolError(413, "Failed to buffer the request body: length limit exceeded")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                break
            parts.append(self.rfile.read(size))
            self.rfile.readline()
            total += size
        if total > PAYLOAD_LIMIT:
            raise ProtocolError(413, "Failed to buffer the request body: length limit exceeded")
        return b"".join(parts)

    def _json_body(self) -> dict:
        raw = self._drain()
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not (ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json"))):
            raise ProtocolError(415, "Expected request with `Content-Type: application/json`")
        return parse_json_body(raw)

    # -- generation ----------------------------------------------------------------

    def _generation(self, kind: str) -> None:
        data = self._json_body()
        streaming = kind == "stream" or (kind in ("compat", "chat") and data.get("stream") is True)
        knobs, metrics = self.server.knobs, self.server.metrics
        started = time.monotonic()
        if not metrics.acquire(knobs.max_concurrent):  # TGI's semaphore: before validation, no queue
            return self._refuse(tgi_error(429), streaming)
        try:
            limits = (knobs.max_input_tokens, knobs.max_total_tokens)
            try:
                if kind == "chat":
                    gen = chat_request(data, limits=limits)
                else:
                    gen = generate_request(
                        data,
                        limits=limits,
                        stream=True if kind == "stream" else None,
                        full_text_default=kind == "compat",
                    )
            except ProtocolError as exc:
                metrics.failure(exc.error_type)
                return self._refuse(exc, streaming)
            out = self._run(gen)
            if isinstance(out, ProtocolError):
                return self._refuse(out, streaming)
            metrics.success(
                duration_s=time.monotonic() - started, input_tokens=gen.input_tokens, generated_tokens=len(out.tokens)
            )
            self._answer(kind, gen, out, started)
        finally:
            metrics.release()

    def _run(self, gen: Generation) -> Output | ProtocolError:
        """The knobs, in the order a real server would show them, then the extractor."""
        server, knobs, metrics = self.server, self.server.knobs, self.server.metrics
        draw = server.draw()
        if knobs.latency_ms:
            server.stopping.wait(knobs.latency_ms / 1000)
        if draw.timeout:
            metrics.inject("timeout")
            server.stopping.wait(knobs.hold_s)
        if draw.fail:
            metrics.inject("fail", str(draw.status))
            error = tgi_error(draw.status)
            metrics.failure(error.error_type)
            return error
        if draw.garbage:
            metrics.inject("garbage")
            text = GARBAGE[draw.variant]
        else:
            text = completion_text(gen)
        cut_at = None
        if draw.truncate:
            metrics.inject("truncate")
            cut_at = max(1, int(token_count(text) * draw.fraction))
        return finish(text, max_new_tokens=gen.max_new_tokens, stop=gen.stop, cut_at=cut_at)

    def _answer(self, kind: str, gen: Generation, out: Output, started: float) -> None:
        if kind == "chat":
            n, created = self.server.next_id(), int(time.time())
            ids = {"ident": f"chatcmpl-baseline-{n}", "created": created, "model": self.server.knobs.model_id}
            ids["fingerprint"] = f"{self.server.info()['version']}-rules"
            if gen.stream:
                return self._sse(chat_chunks(gen, out, **ids), done=True)
            return self._json(200, chat_body(gen, out, **ids), self._timing(gen, out, started))
        if gen.stream:
            return self._sse(stream_events(gen, out))
        body = generate_body(gen, out)
        self._json(200, [body] if kind == "compat" else body, self._timing(gen, out, started))

    @staticmethod
    def _timing(gen: Generation, out: Output, started: float) -> dict:
        total_ms = int((time.monotonic() - started) * 1000)
        n = max(len(out.tokens), 1)
        return {
            "x-compute-type": "cpu+rules",
            "x-compute-time": f"{total_ms / 1000:.3f}",
            "x-compute-characters": str(len(gen.inputs)),
            "x-total-time": str(total_ms),
            "x-validation-time": "0",
            "x-queue-time": "0",
            "x-inference-time": str(total_ms),
            "x-time-per-token": str(total_ms // n),
            "x-prompt-tokens": str(gen.input_tokens),
            "x-generated-tokens": str(len(out.tokens)),
        }

    # -- writing -------------------------------------------------------------------

    def _send(self, status: int, payload: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self._sent = True
        self.wfile.write(payload)

    def _json(self, status: int, obj, headers: dict | None = None) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json", headers)

    def _error(self, exc: ProtocolError) -> None:
        if isinstance(exc.body, dict):
            self._json(exc.status, exc.body)
        else:
            self._send(exc.status, exc.body.encode("utf-8"), "text/plain; charset=utf-8")

    def _refuse(self, exc: ProtocolError, streaming: bool) -> None:
        """An error as TGI gives it: in the SSE stream for a streaming request, else as a status."""
        if streaming and isinstance(exc.body, dict):
            return self._sse(iter([exc.body]))
        self._error(exc)

    def _sse(self, events, *, done: bool = False) -> None:
        self.close_connection = True  # the stream's end is the connection's end
        self.send_response(200)
        for name, value in (
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-cache"),
            ("X-Accel-Buffering", "no"),
            ("x-compute-type", "cpu+rules"),
            ("Connection", "close"),
        ):
            self.send_header(name, value)
        self.end_headers()
        self._sent = True
        for event in events:
            self.wfile.write(b"data: " + json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n\n")
        if done:
            self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
