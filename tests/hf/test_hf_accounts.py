"""Display names and an org's private-by-default through the unmodified ``huggingface_hub``:
``whoami`` shows the ``fullname`` an operator set (``hub admin set-fullname``) for the user and
each org, and ``create_repo`` in an org set ``hub admin orgs private-by-default ORG on`` makes a
private repo unless the creator asks for public (native ``POST /api/v1/repos`` and ``HubClient`` alike)."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from hub_client import HubClient
from hub_server.admin import set_account_fullname
from tests.hf.test_hf_manage import with_refused


def hub_admin(hub, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub_client.cli", "admin", *args],
        env={**os.environ, **hub.admin_env()},
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


WHOAMI = """
    from huggingface_hub import HfApi
    me = HfApi().whoami()
    print(json.dumps({"me": [me["name"], me["fullname"], [[o["name"], o["fullname"]] for o in me["orgs"]]]}))
"""


def whoami(run_hf, token: str) -> list:
    return run_hf(WHOAMI, token=token)["me"]


def test_whoami_shows_display_names(hub, run_hf):
    token = hub.token("erin", orgs=["erin-lab"])
    assert whoami(run_hf, token) == ["erin", "erin", [["erin-lab", "erin-lab"]]]  # none set: the name
    done = hub_admin(hub, "set-fullname", "erin", "Erin Example")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "user erin is shown as Erin Example"
    set_account_fullname(hub.settings, "ERIN-LAB", "Erin's Lab")  # names ignore case
    assert whoami(run_hf, token) == ["erin", "Erin Example", [["erin-lab", "Erin's Lab"]]]
    # hostile or unknown: one-line refusal, nothing stored
    for args, message in [
        (["erin", "two\nlines"], "the display name must be one line of printable text"),
        (["erin", "x" * 101], "the display name is longer than the limit of 100 characters"),
        (["nobody-here", "Someone"], "no user or org named nobody-here"),
    ]:
        refused = hub_admin(hub, "set-fullname", *args)
        assert refused.returncode != 0 and message in refused.stderr, refused.stderr
    assert whoami(run_hf, token)[1] == "Erin Example"
    set_account_fullname(hub.settings, "erin", "")  # cleared: the name again
    assert whoami(run_hf, token)[1] == "erin"


def test_org_private_by_default(hub, run_hf, tmp_path):
    token = hub.token("vic", orgs=["vault"])
    done = hub_admin(hub, "orgs", "private-by-default", "vault", "on")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "new repos of vault are private by default"
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("vault/by-default")
        api.create_repo("vault/asked-public", private=False)
        api.create_repo("vault/visibility-public", visibility="public")
        api.create_repo("vault/data", repo_type="dataset")
        api.create_repo("vic/mine")
        print(json.dumps({r: api.repo_info(r, repo_type="dataset" if r.endswith("data") else None).private
                          for r in ("vault/by-default", "vault/asked-public", "vault/visibility-public",
                                    "vault/data", "vic/mine")}))
    """),
        token=token,
    )
    assert {k: v for k, v in out.items() if not k.startswith("_")} == {
        "vault/by-default": True,
        "vault/asked-public": False,
        "vault/visibility-public": False,
        "vault/data": True,
        "vic/mine": False,  # a user's namespace keeps public by default
    }
    auth = {"Authorization": f"Bearer {token}"}
    native = httpx.post(f"{hub.url}/api/v1/repos", json={"namespace": "vault", "name": "native"}, headers=auth)
    assert native.status_code == 201, native.text
    assert httpx.get(f"{hub.url}/api/models/vault/native").status_code == 404  # private: hidden from strangers
    assert httpx.get(f"{hub.url}/api/models/vault/native", headers=auth).json()["private"] is True
    with HubClient(hub.url, token, cache_dir=tmp_path / "cache", progress=False) as client:  # the hub client alike
        assert client.create_repo("vault/from-client")["private"] is True
        assert client.create_repo("vic/from-client")["private"] is False
    refused = hub_admin(hub, "orgs", "private-by-default", "vic", "on")  # a user, not an org
    assert refused.returncode != 0 and "org vic not found" in refused.stderr
    hub_admin(hub, "orgs", "private-by-default", "vault", "off")
    run_hf('from huggingface_hub import HfApi\nHfApi().create_repo("vault/after")\nprint("{}")', token=token)
    assert httpx.get(f"{hub.url}/api/models/vault/after").json()["private"] is False
