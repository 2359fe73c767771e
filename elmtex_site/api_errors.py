"""DRF exception handler: every refused API request answers the one error shape.

ApplicationError keeps its problems. DRF's own refusals (401 not authenticated, 403 CSRF,
404 invalid page, 405, 415, 400 malformed body, 429 throttled, validation errors) and the
Django Http404 / PermissionDenied that DRF converts get the same ``detail``, ``errors``,
``error_count`` body, keeping their status code and headers (``WWW-Authenticate``,
``Retry-After``), with a hint of what to do where DRF's text has none.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .api import validation_error
from .errors import ApplicationError, Problem

TOKEN_HINT = "log in, or send the header 'Authorization: Token <key>' (drf_create_token USERNAME makes a key)"


def _hint(exc: exceptions.APIException, message: str, context: dict) -> str | None:
    """What the caller can do about ``exc``, or None when DRF's message says it already."""
    view, request = context.get("view"), context.get("request")
    if isinstance(exc, exceptions.NotAuthenticated):
        return TOKEN_HINT
    if isinstance(exc, exceptions.AuthenticationFailed):
        return "check the token, or " + TOKEN_HINT
    if isinstance(exc, exceptions.PermissionDenied) and message.startswith("CSRF Failed"):
        return (
            "with session login send the csrftoken cookie's value in the X-CSRFToken header, "
            "or use token authentication (no CSRF token needed)"
        )
    if isinstance(exc, exceptions.MethodNotAllowed) and view is not None:
        return f"allowed here: {', '.join(view.allowed_methods)}"
    if isinstance(exc, exceptions.UnsupportedMediaType) and getattr(request, "parsers", None):
        return f"send one of: {', '.join(parser.media_type for parser in request.parsers)}"
    if isinstance(exc, exceptions.ParseError):
        return "fix the request body and send it again"
    if isinstance(exc, exceptions.NotFound) and message.startswith("Invalid page"):
        return "use a page number from 1 to the last page (follow the list's next/previous links)"
    return None


def _as_application_error(exc: exceptions.APIException, context: dict) -> ApplicationError:
    if isinstance(exc, exceptions.ValidationError):
        return validation_error(exc.detail if isinstance(exc.detail, dict | list) else [exc.detail])
    message = str(exc.detail)
    hint = _hint(exc, message, context)
    if hint:
        message = f"{message.rstrip('.')}; {hint}"
    return ApplicationError(message, problems=[Problem(message)], status=exc.status_code)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    # As DRF does, so the converted exception's class picks the hint.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:  # not a refusal but a failure: Django's 500 handling
        return None
    error = _as_application_error(exc, context)
    response.data = error.as_dict()
    return response
