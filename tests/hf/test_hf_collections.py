"""Collections through the unmodified ``huggingface_hub`` client: create (and ``exists_ok``), add
items with notes, reorder, list by owner and item, get, update and delete; strangers change nothing,
private collections and private repos inside one stay hidden from them."""

from __future__ import annotations

import httpx

from tests.hf.test_hf_manage import with_refused


def test_collection_lifecycle(hub, run_hf):
    alice = hub.token("alice")
    out = run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        for name in ("tone", "style"):
            api.create_repo(f"alice/{name}")
        api.create_repo("alice/secret-one", private=True)
        c = api.create_collection("Tone adapters", description="For polite replies")
        again = api.create_collection("Tone adapters", exists_ok=True)
        api.add_collection_item(c.slug, "alice/tone", "model", note="start here")
        api.add_collection_item(c.slug, "alice/style", "model")
        api.add_collection_item(c.slug, "alice/secret-one", "model")
        dup = api.add_collection_item(c.slug, "alice/tone", "model", exists_ok=True)
        got = api.get_collection(c.slug)
        api.update_collection_item(c.slug, got.items[1].item_object_id, position=0)
        api.update_collection_metadata(c.slug, title="Polite adapters")
        after = api.get_collection(c.slug)
        listed = [x.slug for x in api.list_collections(owner="alice")]
        by_item = [x.slug for x in api.list_collections(item="models/alice/style")]
        print(json.dumps({"slug": c.slug, "again": again.slug, "dup": len(dup.items),
                          "items": [[i.item_id, i.note] for i in got.items],
                          "after": [after.title, [i.item_id for i in sorted(after.items, key=lambda i: i.position)]],
                          "listed": listed, "by_item": by_item, "url": c.url, "new_slug": after.slug}))
    """,
        token=alice,
    )
    slug = out["slug"]
    assert slug.startswith("alice/tone-adapters-") and out["again"] == slug and out["dup"] == 3
    assert out["items"] == [["alice/tone", "start here"], ["alice/style", None], ["alice/secret-one", None]]
    assert out["after"][0] == "Polite adapters" and out["after"][1][0] == "alice/style"
    key = slug.rsplit("-", 1)[1]
    assert out["new_slug"] == f"alice/polite-adapters-{key}"  # a new title, a new slug, the same key
    assert out["listed"] == [out["new_slug"]] and out["by_item"] == [out["new_slug"]]
    # the private repo inside is left out for everyone who cannot see it
    public = httpx.get(f"{hub.url}/api/collections/{slug}").json()
    assert sorted(i["id"] for i in public["items"]) == ["alice/style", "alice/tone"]
    refused = run_hf(
        with_refused(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        print(json.dumps({{
            "add": refused(lambda: api.add_collection_item("{slug}", "bob/x", "model")),
            "rename": refused(lambda: api.update_collection_metadata("{slug}", title="mine")),
            "delete": refused(lambda: api.delete_collection("{slug}")),
            "in_alice": refused(lambda: api.create_collection("x", namespace="alice")),
            "long": refused(lambda: api.create_collection("t" * 100)),
        }}))
    """),
        token=hub.token("bob"),
    )
    for key in ("add", "rename", "delete", "in_alice"):
        assert refused[key][:2] == [403, "bob may not write to namespace 'alice'"], key
    assert refused["long"][:2] == [413, "the title is longer than the limit of 60 characters"]
    assert httpx.get(f"{hub.url}/api/collections/{slug}").json()["title"] == "Polite adapters"  # the old slug works
    run_hf(
        f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.update_collection_metadata("{slug}", private=True)
    """,
        token=alice,
    )
    assert httpx.get(f"{hub.url}/api/collections/{slug}").status_code == 404
    assert httpx.get(f"{hub.url}/api/collections", params={"owner": "alice"}).json() == []
    run_hf(
        f"""
        from huggingface_hub import HfApi
        HfApi().delete_collection("{slug}")
        HfApi().delete_collection("{slug}", missing_ok=True)
    """,
        token=alice,
    )
    assert (
        httpx.get(f"{hub.url}/api/collections/{slug}", headers={"Authorization": f"Bearer {alice}"}).status_code == 404
    )


def test_collections_inside_collections(hub, run_hf):
    """A collection holds another by slug (``item_type="collection"``, as on the HF Hub): listed with
    its current slug after a rename, once only, never itself; a private one stays hidden from others,
    and a deleted one drops out. A model is not a dataset item."""
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("carol/nest-model")
        api.create_repo("carol/nest-data", repo_type="dataset")
        outer = api.create_collection("Outer")
        inner = api.create_collection("Inner set")
        hidden = api.create_collection("Hidden set", private=True)
        api.add_collection_item(outer.slug, "carol/nest-model", "model", note="a model")
        api.add_collection_item(outer.slug, "carol/nest-data", "dataset")
        api.add_collection_item(outer.slug, inner.slug, "collection", note="more")
        api.add_collection_item(outer.slug, hidden.slug, "collection")
        got = api.get_collection(outer.slug)
        renamed = api.update_collection_metadata(inner.slug, title="Inner renamed")
        after = api.get_collection(outer.slug)
        print(json.dumps({
            "outer": outer.slug, "inner": inner.slug, "hidden": hidden.slug,
            "items": [[i.item_type, i.item_id, i.note] for i in got.items],
            "after": [i.item_id for i in after.items if i.item_type == "collection"],
            "again": refused(lambda: api.add_collection_item(outer.slug, inner.slug, "collection")),
            "ok": len(api.add_collection_item(outer.slug, inner.slug, "collection", exists_ok=True).items),
            "self": refused(lambda: api.add_collection_item(outer.slug, outer.slug, "collection")),
            "missing": refused(lambda: api.add_collection_item(outer.slug, "carol/no-such-set-" + "0" * 24,
                                                               "collection")),
            "wrong_type": refused(lambda: api.add_collection_item(outer.slug, "carol/nest-model", "dataset")),
        }))
    """),
        token=hub.token("carol"),
    )
    outer, inner, hidden = out["outer"], out["inner"], out["hidden"]
    assert out["items"] == [
        ["model", "carol/nest-model", "a model"],
        ["dataset", "carol/nest-data", None],
        ["collection", inner, "more"],
        ["collection", hidden, None],
    ]
    key = inner.rsplit("-", 1)[1]
    assert out["after"] == [f"carol/inner-renamed-{key}", hidden]  # the current slug, after a rename
    assert out["again"][:2] == [409, f"carol/inner-renamed-{key} is already in collection {outer}"]
    assert out["ok"] == 4
    assert out["self"][:2] == [400, "a collection cannot contain itself"]
    assert out["missing"][0] == 404 and out["wrong_type"][:2] == [404, "dataset carol/nest-model not found"]
    public = httpx.get(f"{hub.url}/api/collections/{outer}").json()  # the private one is left out
    assert [(i["type"], i.get("slug", i["id"])) for i in public["items"]][2:] == [
        ("collection", f"carol/inner-renamed-{key}")
    ]
    page = httpx.get(f"{hub.url}/collections/{outer}")
    assert page.status_code == 200 and f'href="/collections/carol/inner-renamed-{key}">Inner renamed</a>' in page.text
    stranger = run_hf(
        with_refused(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        mine = api.create_collection("Dave's")
        print(json.dumps({{"add": refused(lambda: api.add_collection_item(mine.slug, "{hidden}", "collection")),
                          "items": len(api.get_collection(mine.slug).items)}}))
    """),
        token=hub.token("dave"),
    )
    assert stranger["add"][:2] == [404, f"collection {hidden} not found"] and stranger["items"] == 0
    run_hf(
        f"""
        from huggingface_hub import HfApi
        HfApi().delete_collection("{inner}")
    """,
        token=hub.token("carol"),
    )
    left = httpx.get(f"{hub.url}/api/collections/{outer}", headers={"Authorization": f"Bearer {hub.token('carol')}"})
    assert [i["type"] for i in left.json()["items"]] == ["model", "dataset", "collection"]  # only the hidden one
