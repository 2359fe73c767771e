"""Adding members: the rules ``member_add`` enforces for the CLI (``add_member``) and the
API alike, and who may create accounts through the API."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from annotation.models import Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
URL = "/api/projects/p1/members/"


def grant_add_user(user):
    user.user_permissions.add(Permission.objects.get(codename="add_user", content_type__app_label="auth"))
    return User.objects.get(pk=user.pk)  # a fresh instance: permissions are cached


# --- creating accounts through the API ---------------------------------------------------


def test_researcher_may_not_create_accounts(api_client, project, researcher):
    api_client.force_authenticate(researcher)
    response = api_client.post(
        URL, {"username": "mallory", "role": "annotator", "create": True, "password": "long-enough-1"}, format="json"
    )
    assert response.status_code == 403
    body = response.json()
    assert "auth.add_user" in body["detail"] and "leave out create" in body["detail"]
    assert body["errors"][0]["field"] == "create"
    assert not User.objects.filter(username="mallory").exists()


def test_researcher_with_add_user_permission_may_create_accounts(api_client, project, researcher):
    api_client.force_authenticate(grant_add_user(researcher))
    response = api_client.post(
        URL, {"username": "dora", "role": "annotator", "create": True, "password": "s3cret-pass"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert User.objects.get(username="dora").check_password("s3cret-pass")


def test_staff_create_account_without_password_cannot_log_in(api_client, project):
    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post(URL, {"username": "eve", "role": "reviewer", "create": True}, format="json")
    assert response.status_code == 201, response.content
    assert not User.objects.get(username="eve").has_usable_password()


def test_researcher_adds_an_existing_user_by_exact_username(api_client, project, researcher):
    # Documented: a researcher learns whether a username exists (to add colleagues).
    UserFactory(username="carla")
    api_client.force_authenticate(researcher)
    assert api_client.post(URL, {"username": "carla", "role": "annotator"}, format="json").status_code == 201
    missing = api_client.post(URL, {"username": "nobody", "role": "annotator"}, format="json")
    assert missing.status_code == 400 and "does not exist" in missing.json()["detail"]


def test_new_account_password_is_validated_through_the_api(api_client, project):
    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post(
        URL, {"username": "dora", "role": "annotator", "create": True, "password": "short"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "password"
    assert "too short" in body["detail"] and "at least 8 characters" in body["errors"][0]["message"]
    assert not User.objects.filter(username="dora").exists()


def test_new_account_password_is_validated_in_the_cli(run_cli, project, monkeypatch):
    monkeypatch.setenv("DORA_PASSWORD", "short")
    result = run_cli("add_member", "p1", "dora", "--role", "annotator", "--create", "--password-env", "DORA_PASSWORD")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err_lines[0].startswith("error: password: This password is too short.")
    assert "short" not in result.out
    assert not User.objects.filter(username="dora").exists()


# --- a password for an existing account: refused by both surfaces -------------------------


def test_cli_refuses_a_password_for_an_existing_user(run_cli, project, monkeypatch):
    alice = UserFactory(username="alice")
    monkeypatch.setenv("ALICE_PASSWORD", "new-password-1")
    result = run_cli("add_member", "p1", "alice", "--role", "annotator", "--password-env", "ALICE_PASSWORD")
    assert result.code == 1, result.out
    assert result.err_lines[0].startswith(
        "error: password: user 'alice' already exists; its password is not changed by add_member;"
    )
    alice.refresh_from_db()
    assert alice.check_password("pw-123456")
    assert not Membership.objects.filter(user=alice).exists()


@pytest.mark.parametrize("create", [False, True])
def test_api_refuses_a_password_for_an_existing_user(api_client, project, create):
    alice = UserFactory(username="alice")
    api_client.force_authenticate(UserFactory(is_staff=True))
    response = api_client.post(
        URL, {"username": "alice", "role": "annotator", "create": create, "password": "new-password-1"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "password"
    assert "user 'alice' already exists; its password is not changed by add_member" in body["detail"]
    alice.refresh_from_db()
    assert alice.check_password("pw-123456")
    assert not Membership.objects.filter(user=alice).exists()
