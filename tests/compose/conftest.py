"""The tiny trained library both compose suites use, trained once per run (three LoRAs, 60 steps each)."""

from __future__ import annotations

import pytest

from tests.compose.tiny_library import build


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    return build(tmp_path_factory.mktemp("library"))
