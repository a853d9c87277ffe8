"""Shared fixtures: the project and its catalog."""

from __future__ import annotations

import pytest

from afrex.catalog import Catalog, load_catalog
from afrex.stackfiles import Project, find_project
from tests.billing.fleet import fleet
from tests.helpers import ROOT
from tests.services import aws_endpoint, moto_server


@pytest.fixture(scope="session")
def project() -> Project:
    return find_project(ROOT)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(autouse=True)
def plan_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test plans with an empty cache of its own, never the project's."""
    monkeypatch.setenv("AFREX_CACHE_DIR", str(tmp_path_factory.mktemp("plan-cache")))


# moto's server for every test that needs AWS; a throw-away project of stacks (`fleet`)
__all__ = ["aws_endpoint", "fleet", "moto_server"]
