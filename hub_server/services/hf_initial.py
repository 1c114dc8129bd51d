"""The initial commit of a repo created through the HF API, as the HF Hub makes it: one file,
``.gitattributes`` with the Hub's default content, so a fresh repo has ``main`` and reading a
missing file there is "entry not found", not "revision not found".

Versions are immutable and named, so the initial commit is a version too: ``0.0.0``
(``INITIAL_VERSION``). Automatic numbering (``hf_numbering``) skips it, so the first real commit
is still ``1.0.0``, and a range like ``^1`` never matches it. Repos created natively
(``hub push`` / ``/api/v1``) start empty, as before.
"""

from __future__ import annotations

import io

from ..db.models import Repo
from .auth import Principal
from .blobs import put_blob
from .context import Hub
from .hf_gitattributes import GITATTRIBUTES
from .hf_numbering import INITIAL_VERSION
from .publish import publish


def initial_commit(hub: Hub, who: Principal, repo: Repo) -> None:
    """Publish ``INITIAL_VERSION`` holding the default ``.gitattributes`` on a just-created repo."""
    digest, size = put_blob(hub, io.BytesIO(GITATTRIBUTES), who.name)
    publish(
        hub,
        who,
        repo.namespace,
        repo.name,
        INITIAL_VERSION,
        [{"path": ".gitattributes", "size": size, "digest": digest}],
        "initial commit",
    )
