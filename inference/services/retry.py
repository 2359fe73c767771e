"""One document through the endpoint: length check, request, retries, parsing.

Pure of the database: :func:`candidate_generate` takes the frozen run settings and a
client and returns an :class:`Outcome`, which ``processing`` writes in bulk. Runs in the
batch's worker threads.

Retry policy (TGI_PROTOCOL.md "Errors"): overloaded (429) and unreachable servers get
exponential backoff with jitter, bounded in attempts and in total waiting; generation
errors (424), incomplete generations (500) and timeouts get a few immediate-ish retries;
validation errors (422, 400, 413, 415) and unexpected answers are never retried.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from django.conf import settings

from elmtex_site.errors import ApplicationError

from .. import parsing, prompts
from ..client import (
    Completion,
    GenerationParams,
    TGIClient,
    TGIError,
    TGIOverloaded,
    TGIUnavailable,
    TGIValidationError,
)
from ..models import CandidateStatus, EndpointMode

# Errors that mean "the server is not there or too busy", not "this document is bad":
# retried with backoff, and when that runs out the run pauses. (A timeout may be one long
# generation: retried a few times like a generation error, then that document fails.)
BACKOFF_ERRORS = (TGIUnavailable, TGIOverloaded)
# Fewer new tokens than this cannot hold a JSON object for a schema: too long instead.
MIN_NEW_TOKENS = 64
# TGI's 422 for an input over its limits ("`inputs` tokens + `max_new_tokens` must be <= N",
# "`inputs` must have less than N tokens").
_INPUT_TOO_LONG = re.compile(r"inputs.{0,40}(must be <=|must have less than)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class RetryPolicy:
    backoff_attempts: int  # for overloaded / unreachable
    base_delay: float  # seconds before the first backoff retry
    max_wait: float  # seconds of backoff per document at most
    error_attempts: int  # for generation errors, incomplete generations, timeouts

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        return cls(
            backoff_attempts=max(1, settings.ELMTEX_RETRY_BACKOFF_ATTEMPTS),
            base_delay=max(0.0, settings.ELMTEX_RETRY_BASE_DELAY),
            max_wait=max(0.0, settings.ELMTEX_RETRY_MAX_WAIT),
            error_attempts=max(1, settings.ELMTEX_RETRY_ERROR_ATTEMPTS),
        )


@dataclass(frozen=True)
class RunSettings:
    """What every document of a run is sent with, read once per batch from the run."""

    mode: str
    template: dict
    keys: Sequence[str]
    schema: dict
    params: GenerationParams
    max_input_tokens: int | None
    max_total_tokens: int | None


@dataclass
class Outcome:
    status: str
    values: dict | None = None
    raw_output: str = ""
    error: str = ""
    finish_reason: str = ""
    attempts: int = 0
    latency_ms: int | None = None
    prompt_tokens: int | None = None
    generated_tokens: int | None = None
    endpoint_down: bool = False  # failed because the server did not answer or stayed overloaded


class Stopped(Exception):
    """The run was cancelled or paused while this document waited: leave it pending."""


def _send_with_retries(
    send: Callable[[GenerationParams], Completion], params: GenerationParams, policy: RetryPolicy, stop: threading.Event
) -> tuple[Completion | None, int, TGIError | None]:
    """(completion or None, attempts made, last error)."""
    attempts = backoffs = errors = 0
    waited = 0.0
    while True:
        if stop.is_set():
            raise Stopped
        attempts += 1
        try:
            return send(params), attempts, None
        except TGIError as exc:
            if isinstance(exc, BACKOFF_ERRORS):
                backoffs += 1
                delay = policy.base_delay * 2 ** (backoffs - 1)
                delay = delay / 2 + random.uniform(0, delay / 2)  # jitter: workers do not retry in step
                if backoffs >= policy.backoff_attempts or waited + delay > policy.max_wait:
                    return None, attempts, exc
                waited += delay
                if stop.wait(delay):
                    raise Stopped from None
            elif isinstance(exc, TGIValidationError) or not exc.retryable:
                return None, attempts, exc
            else:
                errors += 1
                if errors >= policy.error_attempts:
                    return None, attempts, exc


def candidate_prompt(*, template: dict, report: str, examples: list[dict] | None = None) -> str:
    """The raw /generate prompt: the model's chat template when the run froze one
    (``template["chat_template"]``), else the plain "Report:" / "JSON:" shape."""
    frozen = template.get("chat_template")
    if frozen:
        from ..chat_template import chat_template_render

        messages = prompts.template_messages(template, report=report, examples=examples)
        return chat_template_render(frozen=frozen, messages=messages)
    return prompts.template_prompt(template, report=report, examples=examples)


def candidate_generate(
    *,
    client: TGIClient,
    report: str,
    run: RunSettings,
    policy: RetryPolicy,
    stop: threading.Event,
    examples: list[dict] | None = None,
) -> Outcome:
    """Ask the endpoint for one document's extraction. Raises :class:`Stopped` when the
    run stops before the answer arrives. Never truncates a report: one over the
    endpoint's input limit is recorded as ``too_long``. ``examples`` (advanced strategy,
    ``[{"report", "summary"}]`` best first) become worked-example turns before the report."""
    try:
        prompt = candidate_prompt(template=run.template, report=report, examples=examples)
    except ApplicationError as exc:  # the frozen chat template is gone or changed
        return Outcome(status=CandidateStatus.FAILED, error=exc.message)
    params = run.params
    prompt_tokens = None
    budget = None  # new tokens the endpoint allows after this prompt
    if run.max_input_tokens:
        try:
            prompt_tokens = client.count_tokens(prompt)
        except TGIError:
            prompt_tokens = None  # no exact count: the request itself tells (422 below)
        if prompt_tokens is not None:
            if prompt_tokens > run.max_input_tokens:
                return Outcome(
                    status=CandidateStatus.TOO_LONG,
                    error=f"the prompt has {prompt_tokens} tokens; the endpoint accepts at most {run.max_input_tokens}",
                    prompt_tokens=prompt_tokens,
                )
            if run.max_total_tokens:
                budget = run.max_total_tokens - prompt_tokens
                if budget < MIN_NEW_TOKENS:
                    return Outcome(
                        status=CandidateStatus.TOO_LONG,
                        error=(
                            f"the prompt has {prompt_tokens} tokens, leaving {budget} of the endpoint's "
                            f"{run.max_total_tokens} for the answer"
                        ),
                        prompt_tokens=prompt_tokens,
                    )
                params = replace(params, max_new_tokens=min(params.max_new_tokens, budget))

    if run.mode == EndpointMode.GENERATE:

        def send(p: GenerationParams) -> Completion:
            return client.generate(prompt, params=p, schema=run.schema)

    else:
        messages = prompts.template_messages(run.template, report=report, examples=examples)

        def send(p: GenerationParams) -> Completion:
            return client.chat(messages, params=p, schema=run.schema)

    completion, attempts, exc = _send_with_retries(send, params, policy, stop)
    if completion is None:
        message = str(exc)[:2000]
        if isinstance(exc, TGIValidationError) and _INPUT_TOO_LONG.search(message):
            return Outcome(status=CandidateStatus.TOO_LONG, error=message, attempts=attempts)
        return Outcome(
            status=CandidateStatus.FAILED,
            error=message or type(exc).__name__,
            attempts=attempts,
            endpoint_down=isinstance(exc, BACKOFF_ERRORS),
        )

    latency = completion.latency_ms
    if completion.finish_reason == "length":
        # Cut at max_new_tokens: once more with twice the room, then take what comes.
        more = params.max_new_tokens * 2 if budget is None else min(params.max_new_tokens * 2, budget)
        if more > params.max_new_tokens:
            second, extra, _ = _send_with_retries(send, replace(params, max_new_tokens=more), policy, stop)
            attempts += extra
            if second is not None:
                completion = second
                latency = (latency or 0) + (second.latency_ms or 0)

    parsed = parsing.candidate_parse_output(completion.text, run.keys)
    return Outcome(
        status=CandidateStatus.OK if parsed.ok else CandidateStatus.PARSE_ERROR,
        values=parsed.values if parsed.ok else None,
        raw_output=completion.text,
        error="" if parsed.ok else (parsed.error or "the output did not parse"),
        finish_reason=completion.finish_reason or "",
        attempts=attempts,
        latency_ms=latency,
        prompt_tokens=completion.prompt_tokens if completion.prompt_tokens is not None else prompt_tokens,
        generated_tokens=completion.generated_tokens,
    )
