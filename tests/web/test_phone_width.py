"""At a phone's width (390 px) in Chromium, no page scrolls sideways: a card with a wide table and a long
line of code, long snippets, the versions and files tables and the file viewer all scroll inside their
own box. Checked on the repo page, a version's page (the card), the base page, a base repo's page and the
file viewer."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from tests.support.hub_process import HubProcess
from tests.web.test_repo_facts import base_dir
from tests.web.web_fixtures import FINGERPRINT, adapter_dir, card

PHONE = {"width": 390, "height": 844}
WIDE_CARD = (
    "# A card that is wider than a phone\n\n"
    + "| "
    + " | ".join(f"column{i}" for i in range(14))
    + " |\n"
    + "|"
    + "---|" * 14
    + "\n"
    + "| "
    + " | ".join(f"value-{i}-unbroken" for i in range(14))
    + " |\n\n"
    + "```python\nresult = load_stack("
    + ", ".join(f"argument_number_{i}" for i in range(20))
    + ")\n```\n\n"
    + "A long word: "
    + "x" * 120
    + "\n"
)


@pytest.fixture(scope="module")
def phone_hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("phone")
    hub = HubProcess(root / "hub").start()
    token = hub.token("phone")
    env = {"HUB_ENDPOINT": hub.url, "HUB_TOKEN": token, "HUB_NO_PROGRESS": "1", "HUB_CACHE": str(root / "cache")}
    for args in (
        ["push", str(base_dir(root / "base")), "phone/base", "--version", "1.0.0", "--kind", "base"],
        [
            "push",
            str(adapter_dir(root / "a", card(WIDE_CARD))),
            "phone/wide-card-adapter-with-a-long-name",
            "--version",
            "1.0.0",
            "-m",
            "a message that is long enough to be wider than a phone screen",
        ],
    ):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
    yield hub
    hub.close()


PAGES = [
    "/phone/wide-card-adapter-with-a-long-name",
    "/phone/wide-card-adapter-with-a-long-name/v/1.0.0",
    f"/bases/{FINGERPRINT}",
    "/phone/base",
    "/phone/wide-card-adapter-with-a-long-name/tree/1.0.0",
    "/phone/wide-card-adapter-with-a-long-name/blob/1.0.0/adapter_model.safetensors",
    "/phone/wide-card-adapter-with-a-long-name/blob/1.0.0/README.md",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_phone(chromium, phone_hub, shot, path):
    context = chromium.new_context(base_url=phone_hub.url, viewport=PHONE)
    page = context.new_page()
    assert page.goto(path).status == 200
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, "phone" + path.replace("/", "-").replace(":", "-")[:80])
    # the wide things are still there, scrolling in their own box
    if path.endswith("long-name"):
        table = page.locator("article.card table")
        assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    context.close()
    assert width <= PHONE["width"], f"{path} is {width} px wide at {PHONE['width']} px"
