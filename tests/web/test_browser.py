"""The site as a person clicks it, in Debian's Chromium driven by Playwright: the whole story
from sign-up to a liked adapter sorting first, a card full of XSS attempts that sets no flag,
and a private repo that is a 404 page to a stranger. Each page's screenshot is saved."""

from __future__ import annotations

import re

import httpx
import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from hub_client.cli.main import main
from tests.support.hub_http import wait_for_downloads
from tests.support.hub_process import HubProcess
from tests.web.web_fixtures import adapter_dir, card

CARD = """# Sentiment LoRA

Turns a review into **positive** or **negative**.

| split | exact match |
|-------|-------------|
| held-out | 0.92 |
"""

XSS_CARD = """# Totally normal adapter

<script>window.pwned = 'script'</script>
<img src="x" onerror="window.pwned = 'onerror'">
[click me](javascript:window.pwned='md-link')
<a id="js-link" href="javascript:window.pwned='a-link'">click me too</a>
<a href="&#106;avascript:window.pwned='entity-link'">entity link</a>
<svg><script>window.pwned = 'svg-script'</script></svg>
<svg onload="window.pwned = 'svg-onload'"></svg>
<!--><script>window.pwned = 'comment'</script>-->
<!-- --!><img src=x onerror="window.pwned = 'comment-img'"> -->
<iframe src="javascript:window.pwned='iframe'"></iframe>
<details open ontoggle="window.pwned = 'ontoggle'">x</details>
<math><mtext><table><mglyph><style><img src=x onerror="window.pwned = 'mxss'">
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    hub = HubProcess(tmp_path_factory.mktemp("site")).start()
    yield hub
    hub.close()


def cli(site, token: str, tmp_path, *args: str) -> str:
    env = {"HUB_ENDPOINT": site.url, "HUB_TOKEN": token, "HUB_NO_PROGRESS": "1", "HUB_CACHE": str(tmp_path / "cache")}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_story_sign_up_to_liked_adapter_sorting_first(chromium, site, shot, tmp_path):
    context = chromium.new_context(
        base_url=site.url, permissions=["clipboard-read", "clipboard-write"], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    # a rival with more downloads, so "sorts first by likes" is not first anyway
    rival = site.token("rival")
    cli(
        site,
        rival,
        tmp_path,
        "push",
        str(adapter_dir(tmp_path / "rival", card("# Rival\n"), seed=1)),
        "rival/sentiment-rival",
        "--version",
        "1.0.0",
    )
    cli(
        site,
        rival,
        tmp_path,
        "push",
        str(adapter_dir(tmp_path / "ia3", card("# IA3\n", method="ia3"), seed=2)),
        "rival/sentiment-ia3",
        "--version",
        "1.0.0",
    )
    for _ in range(3):  # three real pulls, as the client reports them
        httpx.post(site.url + "/api/v1/repos/rival/sentiment-rival/versions/1.0.0/pulls").raise_for_status()
    wait_for_downloads(httpx.Client(base_url=site.url), "rival/sentiment-rival", 3)

    # sign up, then a token on the settings page
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/settings")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text().strip()
    assert token.startswith("hub_")
    shot(page, "01-settings-new-token")

    # push with the CLI using that token; a second version, yanked with a reason
    directory = adapter_dir(tmp_path / "mine", card(CARD), seed=3)
    cli(site, token, tmp_path, "push", str(directory), "alice/sentiment-lora", "--version", "1.0.0")
    (directory / "README.md").write_text(card(CARD + "\nSecond try.\n"))
    cli(site, token, tmp_path, "push", str(directory), "alice/sentiment-lora", "--version", "1.1.0")
    cli(site, token, tmp_path, "yank", "alice/sentiment-lora@1.1.0", "--reason", "trained on the test split")

    # find it from the home page search, filter by method, open it
    page.goto("/")
    shot(page, "02-home")
    page.locator("#home-search").fill("sentiment")
    page.locator("#home-search").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=sentiment"))
    assert page.locator(".results a.repo-name", has_text="rival/sentiment-ia3").count() == 1
    shot(page, "03-search")
    page.locator(".facet-method a", has_text="lora").click()
    page.wait_for_url(re.compile(r"method=lora"))
    assert page.locator(".results a.repo-name", has_text="rival/sentiment-ia3").count() == 0
    shot(page, "04-search-method-lora")
    page.locator(".results a.repo-name", has_text="alice/sentiment-lora").click()
    page.wait_for_url("**/alice/sentiment-lora")

    # the card is rendered: its heading and its table are visible
    card_box = page.locator("article.card")
    assert card_box.get_by_role("heading", name="Sentiment LoRA").is_visible()
    assert card_box.locator("table td", has_text="held-out").is_visible()
    assert card_box.locator("table th", has_text="exact match").is_visible()
    # versions: 1.1.0 yanked with its reason; the page shows 1.0.0 (newest not yanked)
    yanked = page.locator("tr.yanked")
    assert yanked.count() == 1 and "1.1.0" in yanked.inner_text()
    assert yanked.locator(".yank-reason").inner_text() == "trained on the test split"
    assert page.locator(".badge.version").inner_text() == "v1.0.0"
    assert page.locator(".base-pin").get_by_text("tiny/base").is_visible()
    shot(page, "05-repo")

    # copy the hub pull snippet
    pull = page.locator("#snippet-pull")
    pull.get_by_role("button", name="Copy").click()
    expect(pull.get_by_role("button", name="Copied")).to_be_visible()  # waits for the clipboard promise
    assert page.evaluate("navigator.clipboard.readText()") == "hub pull alice/sentiment-lora@1.0.0"

    # like it; by likes it comes first although the rival has more downloads
    page.get_by_role("button", name=re.compile("Like")).click()
    page.wait_for_url("**/alice/sentiment-lora")
    assert page.locator("button.like.liked .like-count").inner_text() == "1"
    shot(page, "06-repo-liked")
    page.goto("/search?q=sentiment")
    assert page.locator(".results a.repo-name").first.inner_text() == "rival/sentiment-rival"
    page.locator(".sorts a", has_text="likes").click()
    page.wait_for_url(re.compile(r"sort=likes"))
    assert page.locator(".results a.repo-name").first.inner_text() == "alice/sentiment-lora"
    shot(page, "07-search-by-likes")

    # the older version's page and the base's page
    page.goto("/alice/sentiment-lora/v/1.1.0")
    assert page.locator(".yank-banner").is_visible()
    page.locator(".base-pin a", has_text="other adapters for this base").click()
    assert page.get_by_role("heading", name="Adapters for tiny/base").is_visible()
    assert page.locator("a", has_text="alice/sentiment-lora").count() == 1
    shot(page, "08-base")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/alice/sentiment-lora")
    shot(page, "09-repo-phone")
    context.close()


def test_story_pages_work_without_javascript(chromium, site, shot):
    context = chromium.new_context(base_url=site.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/signup")
    page.get_by_label("User name").fill("nojs")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/settings")
    page.get_by_role("button", name="Create token").click()
    assert page.locator("#new-token").inner_text().startswith("hub_")
    assert page.locator("button.copy").is_hidden()  # copy buttons appear only with JavaScript
    page.goto("/search?q=nothing-matches-this")
    assert page.get_by_text("No repos match.").is_visible()
    shot(page, "10-no-javascript")
    context.close()


def test_xss_card_sets_no_flag(chromium, site, shot, tmp_path):
    token = site.token("mallory")
    readme = card(
        XSS_CARD,
        tags=("<script>window.pwned='tag'</script>",),
        extra={"usage": "<img src=x onerror=\"window.pwned='usage'\">"},
    )
    cli(site, token, tmp_path, "push", str(adapter_dir(tmp_path / "xss", readme)), "mallory/xss", "--version", "1.0.0")
    # bypass_csp: only the sanitiser stands between the payloads and the page
    context = chromium.new_context(base_url=site.url, bypass_csp=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/mallory/xss")
    page.wait_for_load_state("networkidle")
    for link in page.locator("article.card a").all():
        link.click(no_wait_after=True)
    page.wait_for_timeout(300)
    assert page.url.endswith("/mallory/xss")  # no link led anywhere
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    assert page.locator("article.card").get_by_role("heading", name="Totally normal adapter").is_visible()
    assert page.locator("article.card script, article.card svg, article.card iframe").count() == 0
    shot(page, "11-xss-card")
    page.goto("/search?q=mallory")
    assert page.evaluate("window.pwned") is None
    # positive control: the same payloads unsanitised do set the flag in this browser
    page.set_content(XSS_CARD.replace("\n", "<br>"))
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is not None
    context.close()


def test_private_repo_is_a_404_page_to_a_stranger(chromium, site, shot, tmp_path):
    token = site.token("priya")
    cli(
        site,
        token,
        tmp_path,
        "push",
        str(adapter_dir(tmp_path / "p", card("# Hidden\n"))),
        "priya/hidden",
        "--version",
        "1.0.0",
        "--private",
    )
    context = chromium.new_context(base_url=site.url)
    page = context.new_page()
    for path in ("/priya/hidden", "/priya/hidden/v/1.0.0", "/priya/hidden/v/1.0.0/files/README.md"):
        response = page.goto(path)
        assert response.status == 404, path
        assert page.get_by_role("heading", name="Not found").is_visible()
    shot(page, "12-private-404")
    context.close()
