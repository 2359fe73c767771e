"""create_project and add_member (CLI.md "Projects and people"), and the exit codes and
error lines every command shares (elmtex_site/cli.py)."""

import json

import pytest
from django.contrib.auth import get_user_model

from annotation.models import Category, Membership, Project
from annotation.schema import ELMTEX_CATEGORIES

pytestmark = pytest.mark.django_db

User = get_user_model()


def assert_clean_failure(result, code=1):
    assert result.code == code, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    if code == 1:
        assert result.err_lines and all(line.startswith("error: ") for line in result.err_lines), result.err


# --- create_project ---------------------------------------------------------------------------


def test_create_project_with_the_elmtex_schema(run_cli):
    result = run_cli("create_project", "demo", "--name", "Demo project")
    assert result.code == 0, result.err
    assert result.out == "created project demo with 15 categories\n"
    project = Project.objects.get(slug="demo")
    assert project.name == "Demo project"
    cats = list(Category.objects.filter(project=project).order_by("order"))
    assert [(c.key, c.label, c.text_metrics, c.entity_metrics) for c in cats] == [
        (c.key, c.label, c.text_metrics, c.entity_metrics) for c in ELMTEX_CATEGORIES
    ]
    assert {c.key for c in cats if not c.text_metrics} == {"age", "gender"}


def test_create_project_with_explicit_elmtex_schema(run_cli):
    assert run_cli("create_project", "demo", "--name", "D", "--schema", "elmtex").code == 0
    assert Category.objects.filter(project__slug="demo").count() == 15


def test_create_project_with_a_schema_file(run_cli, tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(
        json.dumps(
            [
                {
                    "key": "symptoms",
                    "label": "Symptoms",
                    "guideline": "Current complaints.",
                    "text_metrics": True,
                    "entity_metrics": True,
                },
                {
                    "key": "age",
                    "label": "Age",
                    "guideline": "As written.",
                    "text_metrics": False,
                    "entity_metrics": False,
                },
                {"key": "drugs"},
            ]
        ),
        encoding="utf-8",
    )
    result = run_cli("create_project", "custom", "--name", "Custom", "--schema", str(path))
    assert result.code == 0, result.err
    assert result.out == "created project custom with 3 categories\n"
    cats = Category.objects.filter(project__slug="custom").order_by("order")
    assert [(c.key, c.label, c.guideline, c.text_metrics, c.entity_metrics) for c in cats] == [
        ("symptoms", "Symptoms", "Current complaints.", True, True),
        ("age", "Age", "As written.", False, False),
        ("drugs", "Drugs", "", True, False),
    ]


def test_schema_file_with_bom_is_read(run_cli, tmp_path):
    path = tmp_path / "schema.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([{"key": "a", "label": "Ä"}]).encode())
    assert run_cli("create_project", "bom", "--name", "B", "--schema", str(path)).code == 0
    assert Category.objects.get().label == "Ä"


BAD_SCHEMAS = [
    ("", "invalid JSON"),
    ('[{"key": "a",}]', "invalid JSON"),
    ("[]", "non-empty JSON list"),
    ('{"key": "a"}', "non-empty JSON list"),
    ('["a"]', "category 1: expected an object"),
    ('[{"key": "a"}, {"key": "b", "colour": "red"}]', "category 2: unknown field(s): colour"),
    ('[{"label": "No key"}]', "category 1: key:"),
    ('[{"key": "Diagnosis"}]', "category 1: key:"),
    ('[{"key": "1st"}]', "category 1: key:"),
    ('[{"key": ""}]', "category 1: key:"),
    ('[{"key": 5}]', "category 1: key:"),
    ('[{"key": "' + "a" * 65 + '"}]', "category 1: key:"),
    ('[{"key": "a"}, {"key": "a"}]', "category 2: key: duplicate key 'a'"),
    ('[{"key": "report"}]', "category 1: key: 'report' is reserved"),
    ('[{"key": "patient_id"}]', "reserved"),
    ('[{"key": "a", "label": 3}]', "category 1: label: expected a string"),
    ('[{"key": "a", "label": "' + "x" * 201 + '"}]', "category 1: label: longer than 200"),
    ('[{"key": "a", "guideline": ["x"]}]', "category 1: guideline: expected a string"),
    ('[{"key": "a", "text_metrics": "yes"}]', "category 1: text_metrics: expected true or false"),
    ('[{"key": "a", "entity_metrics": 1}]', "category 1: entity_metrics: expected true or false"),
    ('[{"key": "a", "entity_metrics": NaN}]', "entity_metrics: expected true or false"),
    ('[{"key": "a", "label": "nul\\u0000"}]', "label"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
]


@pytest.mark.parametrize(("text", "problem"), BAD_SCHEMAS)
def test_bad_schema_file_refused(run_cli, tmp_path, text, problem):
    path = tmp_path / "schema.json"
    path.write_text(text, encoding="utf-8")
    result = run_cli("create_project", "custom", "--name", "Custom", "--schema", str(path))
    assert_clean_failure(result)
    [line] = result.err_lines
    assert line.startswith(f"error: {path}: ") and problem in line, line
    assert not Project.objects.exists() and not Category.objects.exists()


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_schema_file_in_another_encoding_refused(run_cli, tmp_path, encoding):
    path = tmp_path / "schema.json"
    path.write_bytes(json.dumps([{"key": "a", "label": "Äußerung"}], ensure_ascii=False).encode(encoding))
    result = run_cli("create_project", "custom", "--name", "C", "--schema", str(path))
    assert_clean_failure(result)
    assert "not valid UTF-8 at byte" in result.err
    assert not Project.objects.exists()


@pytest.mark.parametrize("target", ["missing.json", "."])
def test_unreadable_schema_file_refused(run_cli, tmp_path, target):
    path = tmp_path / target
    result = run_cli("create_project", "custom", "--name", "C", "--schema", str(path))
    assert_clean_failure(result)
    assert result.err_lines[0].startswith(f"error: {path}: cannot read the schema file")
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("bad slug!", "--name", "X"), "is not valid"),
        (("Demo", "--name", "X"), "'Demo' is not valid; use lowercase letters, digits, '-' and '_'"),
        (("démo", "--name", "X"), "is not valid; use lowercase"),
        (("s" * 65, "--name", "X"), "longer than 64"),
        (("ok", "--name", "   "), "name is blank"),
        (("ok", "--name", "n" * 201), "longer than 200"),
    ],
)
def test_create_project_bad_slug_or_name(run_cli, args, problem):
    result = run_cli("create_project", *args)
    assert_clean_failure(result)
    assert problem in result.err
    assert not Project.objects.exists()


def test_create_project_twice_refused(run_cli):
    assert run_cli("create_project", "demo", "--name", "One").code == 0
    result = run_cli("create_project", "demo", "--name", "Two")
    assert_clean_failure(result)
    assert result.err_lines == ["error: project 'demo' already exists; choose another slug"]
    assert Project.objects.get().name == "One"
    assert Category.objects.count() == 15


@pytest.mark.parametrize("args", [(), ("demo",), ("demo", "--name"), ("demo", "--name", "D", "--bogus")])
def test_create_project_usage_errors_exit_2(run_cli, args):
    assert_clean_failure(run_cli("create_project", *args), code=2)
    assert not Project.objects.exists()


# --- add_member -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["researcher", "reviewer", "annotator"])
def test_add_existing_user(run_cli, project, role):
    User.objects.create_user("alice")
    result = run_cli("add_member", "p1", "alice", "--role", role)
    assert result.code == 0, result.err
    assert result.out == f"alice is {role} in p1\n"
    assert Membership.objects.get(user__username="alice", project=project).role == role


def test_add_member_again_changes_the_role(run_cli, project):
    User.objects.create_user("alice")
    run_cli("add_member", "p1", "alice", "--role", "annotator")
    assert run_cli("add_member", "p1", "alice", "--role", "reviewer").code == 0
    assert Membership.objects.get(user__username="alice").role == "reviewer"
    assert Membership.objects.count() == 1


def test_unknown_user_needs_create(run_cli, project):
    result = run_cli("add_member", "p1", "bob", "--role", "annotator")
    assert_clean_failure(result)
    assert result.err_lines == ["error: user 'bob' does not exist; pass --create to create it"]
    assert not User.objects.filter(username="bob").exists()


def test_create_user_with_password_from_the_environment(run_cli, project, monkeypatch):
    monkeypatch.setenv("BOB_PASSWORD", "s3cret-pass")
    result = run_cli("add_member", "p1", "bob", "--role", "annotator", "--create", "--password-env", "BOB_PASSWORD")
    assert result.code == 0, result.err
    assert "s3cret-pass" not in result.out + result.err
    bob = User.objects.get(username="bob")
    assert bob.check_password("s3cret-pass")
    assert Membership.objects.get(user=bob).role == "annotator"


def test_create_user_without_password_cannot_log_in(run_cli, project):
    assert run_cli("add_member", "p1", "carol", "--role", "reviewer", "--create").code == 0
    assert not User.objects.get(username="carol").has_usable_password()


@pytest.mark.parametrize("value", [None, ""])
def test_password_env_not_set_refused(run_cli, project, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("NO_SUCH_VAR", raising=False)
    else:
        monkeypatch.setenv("NO_SUCH_VAR", value)
    result = run_cli("add_member", "p1", "bob", "--role", "annotator", "--create", "--password-env", "NO_SUCH_VAR")
    assert_clean_failure(result)
    assert "NO_SUCH_VAR" in result.err
    assert not User.objects.filter(username="bob").exists()


@pytest.mark.parametrize("username", ["bad name", "x" * 151, "semi;colon"])
def test_invalid_new_username_refused(run_cli, project, username):
    result = run_cli("add_member", "p1", username, "--role", "annotator", "--create")
    assert_clean_failure(result)
    assert "is not valid" in result.err
    assert not User.objects.exists()


def test_add_member_to_unknown_project(run_cli, db):
    User.objects.create_user("alice")
    result = run_cli("add_member", "nope", "alice", "--role", "annotator")
    assert_clean_failure(result)
    assert result.err_lines == ["error: project 'nope' does not exist; create it with create_project"]


@pytest.mark.parametrize(
    "args",
    [
        ("p1", "alice"),
        ("p1", "alice", "--role", "boss"),
        ("p1",),
        ("p1", "alice", "--role", "annotator", "--password-env"),
    ],
)
def test_add_member_usage_errors_exit_2(run_cli, project, args):
    User.objects.create_user("alice")
    assert_clean_failure(run_cli("add_member", *args), code=2)
    assert not Membership.objects.exists()


# --- exit codes and error lines shared by every command ---------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("import_dataset", "nope", "x.jsonl"),
        ("export_gold", "nope", "--out", "x"),
        ("add_member", "nope", "u", "--role", "annotator"),
    ],
)
def test_unknown_project_exits_1_with_a_clear_message(run_cli, db, command):
    result = run_cli(*command)
    assert_clean_failure(result)
    assert result.err_lines == ["error: project 'nope' does not exist; create it with create_project"]
    assert result.out == ""


def test_unexpected_failure_is_one_line_without_traceback(run_cli, db, monkeypatch, settings, tmp_path):
    settings.VAR_DIR = tmp_path

    patient_text = "report text: 45-year-old woman with fever"
    failure = "disk on fire\nsecond line"

    def broken(**kwargs):
        try:
            raise ValueError(patient_text)
        except ValueError as exc:
            raise RuntimeError(failure) from exc

    monkeypatch.setattr("annotation.management.commands.create_project.project_create", broken)
    result = run_cli("create_project", "demo", "--name", "Demo")
    assert_clean_failure(result)
    [line] = result.err_lines
    assert line.startswith("error: unexpected failure (RuntimeError): disk on fire second line; nothing was committed")
    [log] = (tmp_path / "log").iterdir()
    assert str(log) in line
    saved = log.read_text()
    # The saved traceback names the code path and both exceptions, but no message: a
    # message can quote patient text, and logs carry ids only.
    assert "in broken" in saved and "builtins.RuntimeError" in saved and "builtins.ValueError" in saved
    assert "disk on fire" not in saved and "45-year-old" not in saved
    assert saved.index("builtins.ValueError") < saved.index("builtins.RuntimeError")
