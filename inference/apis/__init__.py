"""REST API of the inference app (``/api/``): model endpoints, runs, their progress and
candidates — the same operations as ``add_endpoint``, ``run_extraction``, ``cancel_run`` and
``resume_run`` (CLI.md), with the same errors.

Project rights come from ``project_for_user``: outsiders get 404, members without the
right get 403 (see each module's docstring for who may do what).
"""

from .endpoints import EndpointDetailApi, EndpointListCreateApi
from .runs import (
    CandidateListApi,
    RunCancelApi,
    RunDetailApi,
    RunListCreateApi,
    RunProgressApi,
    RunResumeApi,
)

__all__ = [
    "CandidateListApi",
    "EndpointDetailApi",
    "EndpointListCreateApi",
    "RunCancelApi",
    "RunDetailApi",
    "RunListCreateApi",
    "RunProgressApi",
    "RunResumeApi",
]
