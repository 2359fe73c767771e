import pytest

from tests.factories import RunFactory

from .helpers import add_candidate, add_document


@pytest.fixture
def run(project):
    return RunFactory(project=project, name="baseline")


@pytest.fixture
def other_run(project):
    return RunFactory(project=project, name="finetuned")


@pytest.fixture
def small_case(project, run):
    """Five documents: two scored, one unparsed, one failed, one without gold."""
    d1 = add_document(project, gold={"diagnosis": "Pneumonia; sepsis", "life_style": "Smoker, 20 pack-years"})
    d2 = add_document(project, gold={"diagnosis": "Heart failure"})
    d3 = add_document(project, gold={"diagnosis": "Stroke"})
    d4 = add_document(project, gold=None)
    d5 = add_document(project, gold={"diagnosis": "Asthma"})
    add_candidate(run, d1, diagnosis="pneumonia", life_style="non-smoker")
    add_candidate(run, d2, life_style="smoker")  # diagnosis N/A
    add_candidate(run, d3, status="parse_error")
    add_candidate(run, d4, diagnosis="influenza")
    add_candidate(run, d5, status="failed")
    return {"documents": [d1, d2, d3, d4, d5]}
