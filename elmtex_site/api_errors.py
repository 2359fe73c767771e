"""DRF exception handler: ApplicationError becomes a JSON answer with its problems."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    return drf_exception_handler(exc, context)
