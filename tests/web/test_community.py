"""The Community tab against a real hub: a stranger's pull request (opened with the unmodified
``huggingface_hub``) listed and shown with its changed files, comments through the CSRF-checked
form (Markdown sanitised), the merge and close buttons only for those who may use them, a
stranger's forged merge refused with nothing changed, private repos a 404 page to outsiders; then
the owner merging in Chromium."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.hf.hf_harness import make_runner
from tests.support.hub_process import HubProcess
from tests.web.test_pages import push
from tests.web.web_fixtures import Browser, adapter_dir, card


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _open_pr(hub, tmp_path, token: str, repo: str) -> None:
    make_runner(hub.url, tmp_path)(
        f"""
        from huggingface_hub import HfApi
        info = HfApi().upload_file(path_or_fileobj=b"# Better card\\n", path_in_repo="NOTES.md", repo_id="{repo}",
                                   create_pr=True, commit_message="Add notes", commit_description="Please **merge**")
        print(json.dumps({{"pr": info.pr_revision}}))
    """,
        token=token,
    )


@pytest.fixture
def community(web_hub, tmp_path):
    owner, stranger = Browser(web_hub.url).sign_up(_name("own")), Browser(web_hub.url).sign_up(_name("str"))
    owner_token, stranger_token = owner.new_token(), stranger.new_token()
    owner_name = httpx.get(web_hub.url + "/api/whoami-v2", headers={"Authorization": f"Bearer {owner_token}"}).json()[
        "name"
    ]
    repo = f"{owner_name}/tab"
    push(web_hub, owner_token, adapter_dir(tmp_path / "a", card("# Tab adapter\n")), repo, tmp_path=tmp_path)
    _open_pr(web_hub, tmp_path, stranger_token, repo)
    yield web_hub, repo, owner, stranger, owner_token
    owner.close()
    stranger.close()


def test_community_tab_lists_and_shows_a_pull_request(community):
    hub, repo, owner, stranger, _ = community
    assert 'href="/' + repo + '/discussions"' in owner.get(f"/{repo}").text  # the tab link on the repo page
    listing = stranger.get(f"/{repo}/discussions")
    assert listing.status_code == 200 and "#1 Add notes" in listing.text and "PR · open" in listing.text
    page = stranger.get(f"/{repo}/discussions/1")
    assert "<strong>merge</strong>" in page.text and "NOTES.md" in page.text and "refs/pr/1" in page.text
    assert "Merge pull request" not in page.text and ">Close<" in page.text  # the author may close, not merge
    assert "Merge pull request" in owner.get(f"/{repo}/discussions/1").text
    anonymous = httpx.get(f"{hub.url}/{repo}/discussions/1")
    assert anonymous.status_code == 200 and "Sign in</a> to comment" in anonymous.text


def test_comment_form_sanitises_and_refusals_store_nothing(community):
    hub, repo, owner, stranger, owner_token = community
    stranger.get(f"/{repo}/discussions/1")
    r = stranger.post(f"/{repo}/discussions/1/comment", {"comment": "Nice <script>window.pwned=1</script>**work**"})
    assert r.status_code == 303 and r.headers["location"] == f"/{repo}/discussions/1"
    page = stranger.get(f"/{repo}/discussions/1").text
    assert "<strong>work</strong>" in page and "<script>window.pwned" not in page
    forged = stranger.post(f"/{repo}/discussions/1/comment", {"comment": "no token"}, csrf=False)
    assert forged.status_code == 403
    huge = stranger.post(f"/{repo}/discussions/1/comment", {"comment": "x" * 70_000})
    assert huge.status_code == 413 and "the comment is longer than the limit of 65536 characters" in huge.text
    merge = stranger.post(f"/{repo}/discussions/1/merge", {"confirm": "merge"})
    assert merge.status_code == 403 and "may not write to namespace" in merge.text
    details = httpx.get(f"{hub.url}/api/models/{repo}/discussions/1").json()
    assert details["status"] == "open" and [e["type"] for e in details["events"]] == ["comment", "commit", "comment"]
    versions = httpx.get(f"{hub.url}/api/v1/repos/{repo}/versions", headers={"Authorization": f"Bearer {owner_token}"})
    assert [v["version"] for v in versions.json()["items"]] == ["1.0.0"]
    # a private repo's community pages are a 404 page to strangers
    owner.get("/settings")
    httpx.patch(
        f"{hub.url}/api/v1/repos/{repo}", json={"private": True}, headers={"Authorization": f"Bearer {owner_token}"}
    ).raise_for_status()
    assert stranger.get(f"/{repo}/discussions").status_code == 404
    assert stranger.get(f"/{repo}/discussions/1").status_code == 404
    assert stranger.post(f"/{repo}/discussions/1/comment", {"comment": "hello?"}).status_code == 404
    assert owner.get(f"/{repo}/discussions/1").status_code == 200


def test_start_a_discussion_and_close_it(community):
    _hub, repo, owner, stranger, _ = community
    stranger.get(f"/{repo}/discussions")
    r = stranger.post(f"/{repo}/discussions", {"title": "Which base revision?", "description": "Asking _politely_"})
    assert r.status_code == 303 and r.headers["location"] == f"/{repo}/discussions/2"
    assert "<em>politely</em>" in stranger.get(f"/{repo}/discussions/2").text
    assert owner.get(f"/{repo}/discussions/2").status_code == 200
    assert owner.post(f"/{repo}/discussions/2/status", {"status": "closed"}).status_code == 303
    closed = owner.get(f"/{repo}/discussions?status=closed").text
    assert "Which base revision?" in closed and "Add notes" not in closed


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    hub = HubProcess(tmp_path_factory.mktemp("community-site")).start()
    yield hub
    hub.close()


def test_owner_merges_in_the_browser(chromium, site, shot, tmp_path):
    owner = Browser(site.url).sign_up("carla")
    owner_token = owner.new_token()
    stranger = Browser(site.url).sign_up("dmitri")
    push(site, owner_token, adapter_dir(tmp_path / "a", card("# Carla's adapter\n")), "carla/tone", tmp_path=tmp_path)
    _open_pr(site, tmp_path, stranger.new_token(), "carla/tone")
    context = chromium.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/signin?next=/carla/tone")
    page.get_by_label("User name").fill("carla")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/carla/tone")
    page.get_by_role("link", name="Community").click()
    page.get_by_role("link", name="#1 Add notes").click()
    page.get_by_label("Comment (Markdown)").fill("Thanks, **merging**")
    page.get_by_role("button", name="Comment").click()
    page.wait_for_url("**/discussions/1")
    shot(page, "community-pr-before-merge")
    page.get_by_role("button", name="Merge pull request").click()
    page.wait_for_url("**/discussions/1")
    assert page.locator("#discussion-status").inner_text() == "merged"
    assert page.locator(".comment-body strong", has_text="merging").count() == 1
    assert page.get_by_role("link", name="v1.0.1").count() == 1
    shot(page, "community-pr-merged")
    context.close()
    assert httpx.get(f"{site.url}/carla/tone/resolve/main/NOTES.md").content == b"# Better card\n"


def test_collection_page_shows_visible_repos_in_order(web_hub, tmp_path):
    owner = Browser(web_hub.url).sign_up(_name("col"))
    token = owner.new_token()
    name = httpx.get(web_hub.url + "/api/whoami-v2", headers={"Authorization": f"Bearer {token}"}).json()["name"]
    out = make_runner(web_hub.url, tmp_path)(
        f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("{name}/first")
        api.create_repo("{name}/hidden", private=True)
        c = api.create_collection("Picks <b>for</b> you", description="Hand-picked")
        api.add_collection_item(c.slug, "{name}/first", "model", note="the best <i>one</i>")
        api.add_collection_item(c.slug, "{name}/hidden", "model")
        print(json.dumps({{"url": c.url, "slug": c.slug}}))
    """,
        token=token,
    )
    assert out["url"] == f"{web_hub.url}/collections/{out['slug']}"
    public = httpx.get(out["url"])
    assert public.status_code == 200 and "Picks &lt;b&gt;for&lt;/b&gt; you" in public.text
    assert f"{name}/first" in public.text and "the best &lt;i&gt;one&lt;/i&gt;" in public.text
    assert f"{name}/hidden" not in public.text  # a private repo stays hidden from visitors
    assert f"{name}/hidden" in owner.get(f"/collections/{out['slug']}").text
    assert httpx.get(f"{web_hub.url}/collections/{name}/nope-000").status_code == 404
    owner.close()
