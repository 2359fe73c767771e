"""What talking to a TGI server yields, without the HTTP: typed errors, generation
parameters, completions, the server's /info. Pure and light (no huggingface_hub), so
services and web processes can use these names without loading the client."""

from __future__ import annotations

from dataclasses import asdict, dataclass

MAX_MESSAGE_CHARS = 300


class TGIError(Exception):
    """A failed call to a TGI endpoint. ``str(e)`` is one safe line."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, error_type: str | None = None):
        super().__init__(" ".join(str(message).split())[:MAX_MESSAGE_CHARS])
        self.status = status
        self.error_type = error_type


class TGIUnavailable(TGIError):
    """Connection refused/reset, DNS failure, 502/503: the server is down or still loading."""

    retryable = True


class TGIOverloaded(TGIError):
    """429: more requests in flight than the server's ``max_concurrent_requests``."""

    retryable = True


class TGITimeout(TGIError):
    """No answer within the client's timeout."""

    retryable = True


class TGIGenerationError(TGIError):
    """424: generation failed on the server."""

    retryable = True


class TGIIncompleteGeneration(TGIError):
    """500: the server gave up mid-generation."""

    retryable = True


class TGIValidationError(TGIError):
    """422/400/413/415: the request itself is refused (too long, bad grammar, ...); never retried."""


class TGIProtocolError(TGIError):
    """An answer this client does not understand (status or body shape)."""


@dataclass(frozen=True)
class EndpointInfo:
    model_id: str
    model_sha: str | None
    max_concurrent_requests: int | None
    max_input_tokens: int | None
    max_total_tokens: int | None
    version: str | None
    raw: dict


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 2048
    seed: int = 1234
    temperature: float = 0.0  # 0 = greedy
    stop: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {**asdict(self), "stop": list(self.stop)}


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # as the server says it: generate "length"/"eos_token"/"stop_sequence", chat "length"/"stop"
    prompt_tokens: int | None
    generated_tokens: int | None
    latency_ms: int
