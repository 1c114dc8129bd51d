"""The CLI turns the ML core's errors into one line by class, not by name, without importing the core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hub_client.cli.main import _is_user_error
from hub_rules import PathRefused

ROOT = Path(__file__).resolve().parents[2]


def test_adapter_errors_are_user_errors_and_look_alikes_are_not():
    from adapters.errors import AdapterError, BaseMismatchError

    class AdapterErrorLookAlike(Exception):
        pass

    AdapterErrorLookAlike.__name__ = "AdapterError"  # what matching by name used to accept
    assert _is_user_error(BaseMismatchError("other weights"))
    assert _is_user_error(AdapterError("bad input"))
    assert _is_user_error(PathRefused("../x"))
    assert not _is_user_error(AdapterErrorLookAlike("a bug elsewhere"))
    assert not _is_user_error(RuntimeError("a bug"))


def test_mapping_an_error_does_not_import_the_ml_core():
    code = (
        "import sys; from hub_client.cli.main import _is_user_error; "
        "assert not _is_user_error(RuntimeError('x')); print('adapters' in sys.modules)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, cwd=ROOT
    )
    assert run.stdout.strip() == "False"
