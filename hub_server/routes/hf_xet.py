"""``xet-write-token``: the Xet access token ``hf_xet`` asks for before it uploads a file that
preupload marked "lfs" (``huggingface_hub`` with ``hf_xet`` installed, its default, has no other
way). The caller needs write rights on the repo (or, for a pull request, a write token), checked
before anything is issued; the answer names the hub's own CAS (``/xet``, ``routes.xet_cas``) in the
JSON body and the headers ``huggingface_hub`` reads.

``xet-read-token`` is refused with ``XetNotSupported``: downloads are plain HTTP (``resolve``
never sends ``X-Xet-Hash``), so no client asks for one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..errors import ServiceError
from ..public_url import public_base
from ..services import repos, xet_tokens
from .deps import Caller, HubDep
from .hf_common import HfRoute, WritableRepo, Writer

router = APIRouter(prefix="/api", tags=["huggingface"], route_class=HfRoute)


class XetNotSupported(ServiceError):
    """400 (not a 5xx: nothing failed on the server): Xet downloads are not served; resolve is."""

    status, code, hf_code = 400, "xet_not_supported", "XetNotSupported"


def cas_url(request: Request) -> str:
    return public_base(request) + "/xet"


for kind in ("models", "datasets"):

    @router.get(f"/{kind}/{{namespace}}/{{name}}/xet-write-token/{{revision:path}}")
    async def xet_write_token(
        namespace: str, name: str, revision: str, request: Request, hub: HubDep, caller: Writer, repo: WritableRepo
    ) -> JSONResponse:
        token, expires = await run_in_threadpool(xet_tokens.issue, hub, caller, repo)
        cas = cas_url(request)
        return JSONResponse(
            {"accessToken": token, "exp": expires, "casUrl": cas},
            headers={"X-Xet-Cas-Url": cas, "X-Xet-Access-Token": token, "X-Xet-Token-Expiration": str(expires)},
        )

    @router.get(f"/{kind}/{{namespace}}/{{name}}/xet-read-token/{{revision:path}}")
    def xet_read_token(namespace: str, name: str, revision: str, hub: HubDep, caller: Caller) -> dict:
        repos.get_repo(hub, caller, namespace, name)  # a repo the caller cannot see stays RepoNotFound
        raise XetNotSupported("this hub serves downloads over plain HTTP (resolve), not Xet; Xet is for uploads")
