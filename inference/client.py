"""The one module that speaks HTTP to a TGI server (STYLE.md rule 3).

Generation goes through huggingface_hub's ``InferenceClient`` (``text_generation`` posts to
``/``, ``chat_completion`` to ``/v1/chat/completions``); ``/info``, ``/health`` and
``/tokenize`` through a plain HTTP session. Every failure becomes one :class:`TGIError`
subclass that says whether a retry can help; messages carry statuses and the server's
error text, never prompt text.

Settings held to (TGI_PROTOCOL.md): no prompt echo (``return_full_text=False``), greedy
decoding and a fixed seed unless asked otherwise, a bounded ``max_new_tokens``, an
explicit timeout, no Hugging Face token sent to the server (``HF_TOKEN`` is for the Hub,
not for our endpoints), no telemetry. ``HF_HUB_OFFLINE`` is left alone: it would make the
client refuse local URLs too.

``Completion.prompt_tokens``: chat answers carry ``usage.prompt_tokens``; a generate answer
carries no prompt count unless the server returns the prefill, so it is ``None`` there
(call :meth:`TGIClient.count_tokens` when it matters; it costs a second request).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # read when huggingface_hub is imported

import time  # noqa: E402

import httpx2  # noqa: E402  (huggingface_hub 2.x's HTTP transport)
from huggingface_hub import InferenceClient, constants  # noqa: E402
from huggingface_hub.errors import (  # noqa: E402
    GenerationError,
    HfHubHTTPError,
    IncompleteGenerationError,
    InferenceTimeoutError,
    OfflineModeIsEnabled,
    OverloadedError,
    TextGenerationError,
    ValidationError,
)

if os.environ["HF_HUB_DISABLE_TELEMETRY"].strip().lower() in ("1", "true", "yes", "on"):
    constants.HF_HUB_DISABLE_TELEMETRY = True  # also when huggingface_hub was imported before us

from .tgi import (  # noqa: E402  (re-exported: the client's public names)
    MAX_MESSAGE_CHARS,
    Completion,
    EndpointInfo,
    GenerationParams,
    TGIError,
    TGIGenerationError,
    TGIIncompleteGeneration,
    TGIOverloaded,
    TGIProtocolError,
    TGITimeout,
    TGIUnavailable,
    TGIValidationError,
)

__all__ = [
    "TGIClient",
    "TGIError",
    "TGIUnavailable",
    "TGIOverloaded",
    "TGITimeout",
    "TGIGenerationError",
    "TGIIncompleteGeneration",
    "TGIValidationError",
    "TGIProtocolError",
    "EndpointInfo",
    "GenerationParams",
    "Completion",
]


_BY_STATUS: dict[int, type[TGIError]] = {
    400: TGIValidationError,
    413: TGIValidationError,
    415: TGIValidationError,
    422: TGIValidationError,
    424: TGIGenerationError,
    429: TGIOverloaded,
    500: TGIIncompleteGeneration,
    502: TGIUnavailable,
    503: TGIUnavailable,
    504: TGITimeout,
}
_BY_TYPE: dict[type, tuple[type[TGIError], str, int]] = {
    ValidationError: (TGIValidationError, "validation", 422),
    GenerationError: (TGIGenerationError, "generation", 424),
    OverloadedError: (TGIOverloaded, "overloaded", 429),
    IncompleteGenerationError: (TGIIncompleteGeneration, "incomplete_generation", 500),
}


def _server_message(response) -> tuple[str, str | None]:
    """``(error text, error_type)`` from a TGI error body, or the start of a plain-text one."""
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - plain text, unread stream, ...
        try:
            return response.text[:MAX_MESSAGE_CHARS], None
        except Exception:  # noqa: BLE001
            return "", None
    if isinstance(body, dict):
        return str(body.get("error") or ""), body.get("error_type")
    return "", None


def _from_status(status: int, message: str, error_type: str | None, what: str) -> TGIError:
    cls = _BY_STATUS.get(status, TGIProtocolError)
    text = f"{what}: HTTP {status}" + (f" ({error_type})" if error_type else "") + (f": {message}" if message else "")
    return cls(text, status=status, error_type=error_type)


class TGIClient:
    """A client for one TGI endpoint; thread-safe, so one instance can serve a worker's threads."""

    def __init__(self, base_url: str, *, timeout: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # headers: a None value removes the Authorization header that huggingface_hub would
        # build from HF_TOKEN or the saved Hub login.
        self._inference = InferenceClient(base_url=self.base_url, timeout=timeout, headers={"authorization": None})
        self._http = httpx2.Client(timeout=timeout)  # proxies from the environment, as huggingface_hub's session

    def close(self) -> None:
        self._http.close()
        self._inference.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- plain endpoints -------------------------------------------------------------

    def _request(self, method: str, path: str, what: str, **kwargs):
        try:
            response = self._http.request(method, self.base_url + path, **kwargs)
        except httpx2.TimeoutException:
            raise TGITimeout(f"{what}: no answer within {self.timeout:g} s") from None
        except (httpx2.TransportError, OSError) as exc:
            raise TGIUnavailable(f"{what}: cannot reach {self.base_url} ({type(exc).__name__})") from None
        return response

    def info(self) -> EndpointInfo:
        response = self._request("GET", "/info", "GET /info")
        if response.status_code != 200:
            raise _from_status(response.status_code, *_server_message(response), "GET /info")
        try:
            raw = response.json()
            model_id = raw["model_id"]
        except (ValueError, KeyError, TypeError):
            raise TGIProtocolError("GET /info: the answer is not TGI's info object (no model_id)") from None

        def number(*names):
            for name in names:
                if isinstance(raw.get(name), int) and not isinstance(raw.get(name), bool):
                    return raw[name]
            return None

        return EndpointInfo(
            model_id=str(model_id),
            model_sha=raw.get("model_sha"),
            max_concurrent_requests=number("max_concurrent_requests"),
            max_input_tokens=number("max_input_tokens", "max_input_length"),  # the latter before TGI 2.1
            max_total_tokens=number("max_total_tokens"),
            version=raw.get("version"),
            raw=raw,
        )

    def health(self) -> bool:
        """True when the server answers ``/health`` with 200; False when it is down, loading or unhealthy."""
        try:
            return self._request("GET", "/health", "GET /health").status_code == 200
        except TGIError:
            return False

    def count_tokens(self, text: str) -> int | None:
        """The prompt's length in the server's tokens; ``None`` when the server has no ``/tokenize``."""
        response = self._request("POST", "/tokenize", "POST /tokenize", json={"inputs": text})
        if response.status_code in (404, 405):
            return None
        if response.status_code != 200:
            raise _from_status(response.status_code, *_server_message(response), "POST /tokenize")
        try:
            tokens = response.json()
        except ValueError:
            tokens = None
        if not isinstance(tokens, list):
            raise TGIProtocolError("POST /tokenize: expected a list of tokens")
        return len(tokens)

    # -- generation ----------------------------------------------------------------------

    def _call(self, what: str, fn):
        try:
            return fn()
        except InferenceTimeoutError:
            raise TGITimeout(f"{what}: no answer within {self.timeout:g} s") from None
        except TextGenerationError as exc:
            # huggingface_hub read TGI's error_type; the response is on the chained HTTP error.
            response = getattr(exc.__cause__, "response", None)
            status = response.status_code if response is not None else None
            if type(exc) in _BY_TYPE:
                cls, error_type, default_status = _BY_TYPE[type(exc)]
                status = status or default_status
            else:  # UnknownError: an error_type this library does not know
                error_type = _server_message(response)[1] if response is not None else None
                cls = _BY_STATUS.get(status, TGIProtocolError)
            raise cls(f"{what}: HTTP {status} ({error_type}): {exc}", status=status, error_type=error_type) from None
        except HfHubHTTPError as exc:
            response = exc.response
            if response is None:
                raise TGIProtocolError(f"{what}: HTTP error without a response") from None
            raise _from_status(response.status_code, *_server_message(response), what) from None
        except OfflineModeIsEnabled:
            raise TGIProtocolError(
                f"{what}: HF_HUB_OFFLINE is set, so huggingface_hub refuses every URL; unset it for workers"
            ) from None
        except (httpx2.TimeoutException, TimeoutError):
            raise TGITimeout(f"{what}: no answer within {self.timeout:g} s") from None
        except (httpx2.TransportError, OSError) as exc:
            raise TGIUnavailable(f"{what}: cannot reach {self.base_url} ({type(exc).__name__})") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TGIProtocolError(f"{what}: unexpected answer ({type(exc).__name__})") from None

    def generate(self, prompt: str, *, params: GenerationParams, schema: dict | None = None) -> Completion:
        sampling = params.temperature > 0
        started = time.monotonic()
        output = self._call(
            "generate",
            lambda: self._inference.text_generation(
                prompt,
                details=True,
                return_full_text=False,
                do_sample=sampling,
                temperature=params.temperature if sampling else None,  # TGI refuses temperature 0 here
                seed=params.seed,
                max_new_tokens=params.max_new_tokens,
                stop=list(params.stop) or None,
                grammar={"type": "json", "value": schema} if schema is not None else None,
            ),
        )
        latency_ms = int((time.monotonic() - started) * 1000)
        details = output.details
        if details is None:
            raise TGIProtocolError("generate: the answer has no details (is this a TGI server?)")
        return Completion(
            text=output.generated_text,
            finish_reason=str(details.finish_reason),
            prompt_tokens=len(details.prefill) if details.prefill else None,
            generated_tokens=details.generated_tokens,
            latency_ms=latency_ms,
        )

    def chat(self, messages: list[dict], *, params: GenerationParams, schema: dict | None = None) -> Completion:
        started = time.monotonic()
        output = self._call(
            "chat",
            lambda: self._inference.chat_completion(
                messages,
                temperature=params.temperature,  # 0 = greedy in TGI's chat; leaving it out would sample
                seed=params.seed,
                max_tokens=params.max_new_tokens,
                stop=list(params.stop) or None,
                response_format={"type": "json", "value": schema} if schema is not None else None,
            ),
        )
        latency_ms = int((time.monotonic() - started) * 1000)
        try:
            choice = output.choices[0]
            text = choice.message.content
        except (IndexError, AttributeError, TypeError):
            raise TGIProtocolError("chat: the answer has no choices") from None
        usage = output.usage
        return Completion(
            text=text if isinstance(text, str) else "",
            finish_reason=str(choice.finish_reason),
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            generated_tokens=getattr(usage, "completion_tokens", None),
            latency_ms=latency_ms,
        )
