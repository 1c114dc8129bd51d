"""Likes through the unmodified ``huggingface_hub``: ``unlike`` and HF's like route, and
``list_liked_repos`` for oneself and for another user, which lists only the repos the caller may
see (a liked private repo stays hidden from others)."""

from __future__ import annotations

import httpx

from tests.hf.hf_harness import client


def test_likes_are_listed_per_user_and_private_ones_stay_hidden(hub, run_hf):
    pia, quin = hub.token("pia"), hub.token("quin")
    client(hub, pia).create_repo("pia/open")
    client(hub, pia).create_repo("pia/hidden", private=True)
    for repo in ("open", "hidden"):
        liked = httpx.post(f"{hub.url}/api/models/pia/{repo}/like", headers={"Authorization": f"Bearer {pia}"})
        assert liked.status_code == 200
    httpx.post(f"{hub.url}/api/models/pia/open/like", headers={"Authorization": f"Bearer {pia}"})  # twice: one like
    out = run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        mine = api.list_liked_repos()
        print(json.dumps({"user": mine.user, "models": sorted(mine.models),
                          "count": api.model_info("pia/open").likes}))
    """,
        token=pia,
    )
    assert out == {"user": "pia", "models": ["pia/hidden", "pia/open"], "count": 1, **_extra(out)}
    other = run_hf(
        """
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError
        api = HfApi()
        theirs = api.list_liked_repos("pia")
        try:
            api.list_liked_repos("nobody-here")
            missing = "found"
        except HfHubHTTPError as e:
            missing = e.response.status_code
        print(json.dumps({"user": theirs.user, "models": theirs.models, "missing": missing}))
    """,
        token=quin,
    )
    assert other["user"] == "pia" and other["models"] == ["pia/open"] and other["missing"] == 404
    run_hf('from huggingface_hub import HfApi\nHfApi().unlike("pia/open")', token=pia)
    after = run_hf(
        """
        from huggingface_hub import HfApi
        print(json.dumps({"models": HfApi().list_liked_repos().models, "count": HfApi().model_info("pia/open").likes}))
    """,
        token=pia,
    )
    assert after["models"] == ["pia/hidden"] and after["count"] == 0


def _extra(out: dict) -> dict:
    return {k: v for k, v in out.items() if k.startswith("_")}
