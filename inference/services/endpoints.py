"""Model endpoints: TGI servers registered by name (CLI.md ``add_endpoint``)."""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from elmtex_site.errors import ApplicationError, Problem

from ..chat_template import chat_template_describe
from ..models import EndpointMode, ModelEndpoint
from ..tgi import TGIError

# ModelEndpoint.name is a SlugField: letters, digits, '-' and '_'.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
MAX_NAME_CHARS = 64
MAX_URL_CHARS = 500
MAX_TOKENIZER_PATH_CHARS = 500  # ModelEndpoint.tokenizer_path's max_length
# TGI_PROTOCOL.md "Concurrency": stay at or below ~80% of the server's max_concurrent_requests.
CONCURRENCY_SHARE = 0.8
# When /info does not say (a server that is not TGI): few enough not to overload a small server.
DEFAULT_CONCURRENCY = 8
# /info answers at once; a server that takes longer is not ready for a run either.
INFO_TIMEOUT_S = 15.0


def endpoint_name_check(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("endpoint name is blank; give a name such as llama-70b")
    if not NAME_PATTERN.fullmatch(name):
        raise ApplicationError(f"endpoint name {name!r} is not valid; use letters, digits, '-' and '_'")
    if len(name) > MAX_NAME_CHARS:
        raise ApplicationError(f"endpoint name {name!r} is longer than {MAX_NAME_CHARS} characters")
    return name


def endpoint_url_check(url: str) -> str:
    """An http(s) base URL without a trailing slash (the client appends the routes)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApplicationError(
            f"endpoint URL {url!r} is not valid; give the server's base URL, e.g. http://127.0.0.1:8080",
            problems=[Problem(f"{url!r} is not an http(s) URL, e.g. http://127.0.0.1:8080", field="url")],
        )
    if parts.query or parts.fragment:
        raise ApplicationError(f"endpoint URL {url!r} must not carry a query or fragment; give the base URL only")
    if len(url) > MAX_URL_CHARS:
        raise ApplicationError(f"endpoint URL is longer than {MAX_URL_CHARS} characters")
    return url.rstrip("/")


def concurrency_default(max_concurrent_requests: int | None) -> int:
    if not max_concurrent_requests or max_concurrent_requests < 1:
        return DEFAULT_CONCURRENCY
    return max(1, math.floor(CONCURRENCY_SHARE * max_concurrent_requests))


def endpoint_add(
    *,
    name: str,
    url: str,
    model_id: str | None = None,
    mode: str | None = None,
    concurrency: int | None = None,
    tokenizer_path: str | None = None,
    user=None,
) -> tuple[ModelEndpoint, bool]:
    """Register a TGI server under ``name`` after reading its ``/info``; returns
    ``(endpoint, created)``.

    Re-adding an existing name updates it as if it were added anew: ``/info`` is read
    again and every option not given takes its default (model id from ``/info``, chat
    mode, 80% of ``max_concurrent_requests``, no tokenizer). Runs keep the endpoint
    description frozen in their config; they send to the endpoint's current URL.

    ``tokenizer_path``: a local tokenizer folder with a chat template; in ``generate`` mode
    prompts are built with it (inference/chat_template.py). Checked here (files only).
    """
    name = endpoint_name_check(name)
    url = endpoint_url_check(url)
    mode = (mode or EndpointMode.CHAT).strip()
    if mode not in EndpointMode.values:
        raise ApplicationError(f"endpoint mode {mode!r} is not known; use one of {', '.join(EndpointMode.values)}")
    if concurrency is not None and (isinstance(concurrency, bool) or int(concurrency) < 1):
        raise ApplicationError(f"concurrency must be a whole number of at least 1, got {concurrency!r}")
    if model_id is not None and not model_id.strip():
        raise ApplicationError("model id is blank; leave it out to take the one /info reports")
    tokenizer = ""
    if tokenizer_path is not None:
        tokenizer = chat_template_describe(tokenizer_path)["tokenizer_path"]
        if len(tokenizer) > MAX_TOKENIZER_PATH_CHARS:
            raise ApplicationError(f"tokenizer path is longer than {MAX_TOKENIZER_PATH_CHARS} characters")

    from ..client import TGIClient  # huggingface_hub: loaded when a server is called, not at web start-up

    try:
        with TGIClient(url, timeout=INFO_TIMEOUT_S) as client:
            info = client.info()
    except TGIError as exc:
        raise ApplicationError(
            f"endpoint {url} did not answer GET /info ({exc}); check the URL and that the server is running "
            "(TGI opens its port only once the model is loaded), then add it again"
        ) from None

    model = (model_id or info.model_id or "").strip()
    if not model:
        raise ApplicationError(f"endpoint {url} reports no model_id in /info; give one with --model-id")
    values = {
        "base_url": url,
        "model_id": model[:300],
        "mode": mode,
        "concurrency": int(concurrency)
        if concurrency is not None
        else concurrency_default(info.max_concurrent_requests),
        "info": dict(info.raw),
        "tokenizer_path": tokenizer,
    }
    try:
        with transaction.atomic():
            endpoint, created = ModelEndpoint.objects.select_for_update().get_or_create(
                name=name, defaults={**values, "created_by": user}
            )
            if not created:
                for field, value in values.items():
                    setattr(endpoint, field, value)
                endpoint.save(update_fields=[*values, "updated_at"])
    except IntegrityError:
        raise ApplicationError(f"endpoint {name!r} was added at the same moment by someone else; try again") from None
    return endpoint, created
