"""Logs carry ids, never patient text: logged tracebacks keep frames, not messages."""

import io
import logging

import pytest
from django.conf import settings

from elmtex_site.logs import IdsOnlyFormatter


def _formatter() -> logging.Formatter:
    config = settings.LOGGING["formatters"]["plain"]
    assert config["()"] == "elmtex_site.logs.IdsOnlyFormatter"
    return IdsOnlyFormatter(config["format"])


def test_logged_traceback_withholds_exception_messages():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_formatter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    report = "report: 45-year-old woman with fever"
    try:
        try:
            raise ValueError(report)
        except ValueError as exc:
            raise KeyError(report) from exc
    except KeyError:
        logger.exception("import %s failed", 17)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "import 17 failed" in text
    assert "builtins.ValueError" in text and "builtins.KeyError" in text
    assert "test_logged_traceback_withholds_exception_messages" in text  # frames stay
    assert "45-year-old" not in text


@pytest.mark.django_db
def test_server_error_log_holds_no_patient_text(client, monkeypatch, caplog):
    """A 500 in a page is logged by django.request through the same formatter."""
    from annotation import views

    def broken(**kwargs):
        secret = "Case 9: a 45-year-old woman"
        raise RuntimeError(secret)

    monkeypatch.setattr(views, "projects_with_counts", broken)
    from tests.factories import UserFactory

    client.raise_request_exception = False
    client.force_login(UserFactory())
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content and b"45-year-old" not in response.content
    [record] = [r for r in caplog.records if r.name == "django.request"]
    formatted = _formatter().format(record)
    assert "builtins.RuntimeError" in formatted and "45-year-old" not in formatted
