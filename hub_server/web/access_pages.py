"""A gated repo's access page (``/NS/NAME/access``): a signed-in visitor requests access and sees
where their request stands; the owners see pending requests and accept or reject them. Same
``services.gates`` rules as the API; every form is CSRF-checked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from ..db.models import AccessRequest
from ..services import gates
from ..services.repos import find_repo
from ..services.views import repo_json
from .render import page
from .routing import FormDep, HubDep, PageRoute, VisitorDep, redirect

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/{namespace}/{name}/access")
def access_page(request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, name: str):
    who = visitor.principal
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        mode = gates.mode_of(s, repo)
        mine = s.get(AccessRequest, (repo.id, who.name)) if who is not None else None
        owner = who is not None and who.owns(repo.namespace)
        pending = (
            list(
                s.scalars(
                    select(AccessRequest).where(AccessRequest.repo_id == repo.id, AccessRequest.status == "pending")
                )
            )
            if owner
            else []
        )
    return page(
        request, visitor, "access.html", repo=repo_json(repo), mode=mode, mine=mine, owner=owner, pending=pending
    )


@router.post("/{namespace}/{name}/access")
def request_access(hub: HubDep, visitor: VisitorDep, form: FormDep, namespace: str, name: str):
    if visitor.principal is None:
        return redirect(f"/signin?next=/{namespace}/{name}/access")
    gates.ask(hub, visitor.principal, namespace, name)
    return redirect(f"/{namespace}/{name}/access")


@router.post("/{namespace}/{name}/access/handle")
def handle_request(hub: HubDep, visitor: VisitorDep, form: FormDep, namespace: str, name: str):
    if visitor.principal is None:
        return redirect(f"/signin?next=/{namespace}/{name}/access")
    gates.handle(hub, visitor.principal, namespace, name, form.get("user"), form.get("status"))
    return redirect(f"/{namespace}/{name}/access")
