"""Registering endpoints: /info read through the client, defaults, updates, refusals."""

import socket

import pytest

from elmtex_site.errors import ApplicationError
from inference.models import ModelEndpoint
from inference.services.endpoints import DEFAULT_CONCURRENCY, concurrency_default, endpoint_add

pytestmark = pytest.mark.django_db


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_add_reads_info_and_takes_80_percent_of_max_concurrent(baseline_server):
    url = baseline_server(max_concurrent=10)
    endpoint, created = endpoint_add(name="base", url=url + "/")
    assert created
    assert endpoint.base_url == url  # trailing slash dropped
    assert endpoint.concurrency == 8
    assert endpoint.mode == "chat"
    assert endpoint.model_id and endpoint.model_id == endpoint.info["model_id"]
    assert endpoint.info["max_concurrent_requests"] == 10


def test_given_options_win_over_info(baseline_server):
    url = baseline_server()
    endpoint, _ = endpoint_add(name="base", url=url, model_id="my/model", mode="generate", concurrency=3)
    assert (endpoint.model_id, endpoint.mode, endpoint.concurrency) == ("my/model", "generate", 3)


def test_re_adding_a_name_updates_it(baseline_server):
    first = baseline_server(max_concurrent=10)
    endpoint_add(name="base", url=first, concurrency=2, mode="generate")
    second = baseline_server(max_concurrent=20)
    endpoint, created = endpoint_add(name="base", url=second)
    assert not created
    assert ModelEndpoint.objects.count() == 1
    endpoint.refresh_from_db()
    assert (endpoint.base_url, endpoint.concurrency, endpoint.mode) == (second, 16, "chat")


def test_unreachable_server_is_refused_naming_the_url():
    url = closed_port_url()
    with pytest.raises(ApplicationError) as exc:
        endpoint_add(name="base", url=url)
    assert url in exc.value.message
    assert "running" in exc.value.message
    assert not ModelEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "bad name", "url": "http://127.0.0.1:8080"}, "endpoint name 'bad name' is not valid"),
        ({"name": "", "url": "http://127.0.0.1:8080"}, "endpoint name is blank"),
        ({"name": "x" * 65, "url": "http://127.0.0.1:8080"}, "longer than 64"),
        ({"name": "ok", "url": "ftp://host/"}, "is not valid"),
        ({"name": "ok", "url": "127.0.0.1:8080"}, "is not valid"),
        ({"name": "ok", "url": "http://127.0.0.1:8080", "mode": "stream"}, "mode 'stream' is not known"),
        ({"name": "ok", "url": "http://127.0.0.1:8080", "concurrency": 0}, "at least 1"),
    ],
)
def test_bad_input_is_refused_before_any_request(kwargs, fragment):
    with pytest.raises(ApplicationError) as exc:
        endpoint_add(**kwargs)
    assert fragment in exc.value.message
    assert not ModelEndpoint.objects.exists()


def test_concurrency_default():
    assert concurrency_default(128) == 102
    assert concurrency_default(1) == 1
    assert concurrency_default(None) == DEFAULT_CONCURRENCY
