"""Where the ``hub`` CLI sends logs and warnings: the one place they are configured.

Quiet by default: a command prints its progress bars and its result; our own warnings (``HubWarning``, the
ML core's) show as one ``warning: ...`` line; libraries' log records below ERROR and their warnings
(FutureWarning, UserWarning, bitsandbytes' kernel notes, transformers' advice) are dropped, and so are the
libraries' own progress bars (transformers' "Loading weights" / "Loading checkpoint shards" / "Writing model
shards", datasets' "Map", huggingface_hub's downloads): ours are drawn with tqdm directly and stay. ``-v`` shows
library logs at INFO, their warnings and their bars; ``-vv`` logs at DEBUG. Libraries that keep their own
handlers (transformers, datasets, huggingface_hub) are set through their variables before they are imported
(and switched directly when already imported); a variable the user set stays as it is.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any

from ..settings import default_library_verbosity

__all__ = ["OUR_PACKAGES", "configure_logging", "is_ours", "show_warning", "verbosity"]

OUR_PACKAGES = ("adapters", "hub_client", "hub_rules", "hub_server", "hub_serving", "hub_worker")
LIBRARY_VERBOSITY_VARIABLES = ("TRANSFORMERS_VERBOSITY", "HF_DATASETS_VERBOSITY", "HF_HUB_VERBOSITY")
# transformers reads huggingface_hub's variable when it is imported; datasets has its own
LIBRARY_PROGRESS_VARIABLES = ("HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS")
_HANDLER_NAME = "hub-cli"
_state = {"verbose": 0}
_progress_variables_set_here: set[str] = set()


def verbosity() -> int:
    """0 (quiet), 1 (``-v``) or 2 (``-vv``), as the running command was given."""
    return _state["verbose"]


def is_ours(name: str) -> bool:
    """Whether a logger or module name belongs to Adapter Hub's own packages."""
    return name.split(".", 1)[0] in OUR_PACKAGES


class _QuietLibraries(logging.Filter):
    """Our records from WARNING up; other libraries' from ERROR up (everything with ``-v``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return verbosity() > 0 or record.levelno >= logging.ERROR or is_ours(record.name)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (a test runner swaps it per run)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if verbosity() > 0:
            return f"{record.levelname.lower()}: {record.name}: {text}"
        return f"{record.levelname.lower()}: {text}"


def configure_logging(verbose: int = 0) -> None:
    """Set up logging and warnings for one command run (idempotent)."""
    _state["verbose"] = min(max(int(verbose), 0), 2)
    library_level = ("error", "info", "debug")[verbosity()]
    default_library_verbosity(LIBRARY_VERBOSITY_VARIABLES, library_level)
    _library_progress_bars(show=verbosity() > 0)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_QuietLibraries())
    handler.setFormatter(_OneLine())
    root.addHandler(handler)
    root.setLevel((logging.WARNING, logging.INFO, logging.DEBUG)[verbosity()])
    if not sys.warnoptions:  # -W / PYTHONWARNINGS given by the user win
        warnings.simplefilter("default")
    warnings.showwarning = show_warning


def _library_progress_bars(show: bool) -> None:
    """Libraries' own progress bars off when quiet, on with ``-v``; a variable the user set wins."""
    from hub_client.settings import set_by_user, unset

    users = set_by_user(LIBRARY_PROGRESS_VARIABLES, _progress_variables_set_here)
    users_choice = LIBRARY_PROGRESS_VARIABLES[0] in users
    for variable in LIBRARY_PROGRESS_VARIABLES:
        if variable in users:
            continue
        if show:  # unset is the libraries' default (bars on) and leaves `--no-progress` free to turn them off
            unset(variable)
            _progress_variables_set_here.discard(variable)
        else:
            os.environ[variable] = "1"
            _progress_variables_set_here.add(variable)
    transformers_logging = sys.modules.get("transformers.utils.logging")  # imported before this run
    if transformers_logging is not None and not users_choice:
        (transformers_logging.enable_progress_bar if show else transformers_logging.disable_progress_bar)()


def show_warning(message: Any, category: type[Warning], filename: str, lineno: int, *_args: Any, **_kw: Any) -> None:
    """Ours as ``warning: <message>``; a library's only with ``-v`` (with its category and origin)."""
    from click import echo

    if _category_is_ours(category) or (category is UserWarning and _file_is_ours(filename)):
        echo(f"warning: {message}", err=True)
    elif verbosity() > 0:
        echo(f"warning: {category.__name__}: {message} ({filename}:{lineno})", err=True)


def _category_is_ours(category: type[Warning]) -> bool:
    return is_ours(getattr(category, "__module__", "") or "")


_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # holds our packages


def _file_is_ours(filename: str) -> bool:
    relative = os.path.relpath(os.path.abspath(filename), _ROOT)
    return not relative.startswith("..") and relative.split(os.sep, 1)[0] in OUR_PACKAGES
