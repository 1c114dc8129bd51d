"""Gated repos through the unmodified ``huggingface_hub`` client: ``update_repo_settings(gated=...)``,
downloads refused with ``GatedRepoError`` until access is granted (metadata stays public), requests
listed, accepted and rejected by the owner, ``auto`` gates accepting at once; strangers cannot
handle requests."""

from __future__ import annotations

import httpx

from tests.hf.test_hf_manage import with_refused

DOWNLOAD = """
        def download(repo):
            from huggingface_hub import hf_hub_download
            from huggingface_hub.errors import GatedRepoError
            try:
                return open(hf_hub_download(repo, "a.txt", force_download=True), "rb").read().decode()
            except Exception as e:  # hf_hub_download raises its own error caused by GatedRepoError
                while e is not None and not isinstance(e, GatedRepoError):
                    e = e.__cause__
                if e is None:
                    raise
                return ["GatedRepoError", e.response.status_code]
"""


def test_manual_gate_request_accept_reject(hub, run_hf):
    alice, bob = hub.token("alice"), hub.token("bob")
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/gated")
        api.upload_file(path_or_fileobj=b"secret sauce", path_in_repo="a.txt", repo_id="alice/gated")
        api.update_repo_settings("alice/gated", gated="manual")
    """,
        token=alice,
    )
    before = run_hf(
        DOWNLOAD
        + """
        from huggingface_hub import HfApi
        print(json.dumps({"download": download("alice/gated"), "files": HfApi().list_repo_files("alice/gated"),
                          "gated": HfApi().model_info("alice/gated").gated}))
    """,
        token=bob,
    )
    assert before["download"] == ["GatedRepoError", 403] and before["files"] == [".gitattributes", "a.txt"]
    assert before["gated"] == "manual"  # the metadata stays public and says so
    assert run_hf(DOWNLOAD + '        print(json.dumps({"d": download("alice/gated")}))')["d"] == [
        "GatedRepoError",
        401,  # anonymous: 401 as on the HF Hub, still GatedRepo
    ]
    checked = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        print(json.dumps({"check": refused(lambda: HfApi().auth_check("alice/gated"))}))
    """),
        token=bob,
    )
    assert checked["check"] == [
        403,
        (
            "Access to model alice/gated is restricted and you are not in the authorized list "
            "(request access at /alice/gated/access)."
        ),
        "GatedRepoError",
    ]
    asked = httpx.post(
        f"{hub.url}/api/models/alice/gated/user-access-request/ask", headers={"Authorization": f"Bearer {bob}"}
    )
    assert asked.status_code == 200 and asked.json()["status"] == "pending"
    still = run_hf(DOWNLOAD + '        print(json.dumps({"d": download("alice/gated")}))', token=bob)
    assert still["d"] == ["GatedRepoError", 403]
    owner = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        pending = [r.username for r in api.list_pending_access_requests("alice/gated")]
        api.accept_access_request("alice/gated", "bob")
        accepted = [r.username for r in api.list_accepted_access_requests("alice/gated")]
        missing = refused(lambda: api.accept_access_request("alice/gated", "nobody"))
        twice = refused(lambda: api.accept_access_request("alice/gated", "bob"))
        api.cancel_access_request("alice/gated", "bob")
        request_id = next(iter(api.list_pending_access_requests("alice/gated"))).request_id
        api.accept_access_request("alice/gated", request_id=request_id)
        print(json.dumps({"pending": pending, "accepted": accepted, "missing": missing, "twice": twice}))
    """),
        token=alice,
    )
    assert owner["pending"] == ["bob"] and owner["accepted"] == ["bob"] and owner["missing"][0] == 404
    assert owner["twice"][:2] == [409, "the request of bob for alice/gated is already accepted"]
    assert (
        run_hf(DOWNLOAD + '        print(json.dumps({"d": download("alice/gated")}))', token=bob)["d"] == "secret sauce"
    )
    stranger = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        print(json.dumps({"reject": refused(lambda: api.reject_access_request("alice/gated", "bob", rejection_reason=None)),
                          "list": refused(lambda: list(api.list_pending_access_requests("alice/gated"))),
                          "ungate": refused(lambda: api.update_repo_settings("alice/gated", gated=False))}))
    """),
        token=hub.token("carol"),
    )
    for key in ("reject", "list", "ungate"):
        assert stranger[key][:2] == [403, "carol may not write to namespace 'alice'"], key
    run_hf(
        'from huggingface_hub import HfApi\nHfApi().reject_access_request("alice/gated", "bob", '
        'rejection_reason="not now")',
        token=alice,
    )
    assert run_hf(DOWNLOAD + '        print(json.dumps({"d": download("alice/gated")}))', token=bob)["d"] == [
        "GatedRepoError",
        403,
    ]
    native = httpx.get(
        f"{hub.url}/api/v1/repos/alice/gated/files/1.0.0/a.txt", headers={"Authorization": f"Bearer {bob}"}
    )
    assert (
        native.status_code == 403
        and native.json()["error"]["message"]
        == "Access to model alice/gated is restricted and you are not in the authorized list (your request is rejected)."
    )


def test_auto_gate_accepts_at_once_and_ungating_opens_the_files(hub, run_hf):
    alice, bob = hub.token("alice"), hub.token("bob")
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/auto")
        api.upload_file(path_or_fileobj=b"open sesame", path_in_repo="a.txt", repo_id="alice/auto")
        api.update_repo_settings("alice/auto", gated="auto")
    """,
        token=alice,
    )
    asked = httpx.post(
        f"{hub.url}/api/models/alice/auto/user-access-request/ask", headers={"Authorization": f"Bearer {bob}"}
    )
    assert asked.json()["status"] == "accepted"
    assert (
        run_hf(DOWNLOAD + '        print(json.dumps({"d": download("alice/auto")}))', token=bob)["d"] == "open sesame"
    )
    assert run_hf(DOWNLOAD + '        print(json.dumps({"d": download("alice/auto")}))')["d"] == ["GatedRepoError", 401]
    run_hf('from huggingface_hub import HfApi\nHfApi().update_repo_settings("alice/auto", gated=False)', token=alice)
    assert run_hf(DOWNLOAD + '        print(json.dumps({"d": download("alice/auto")}))')["d"] == "open sesame"
