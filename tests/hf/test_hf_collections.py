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
                          "listed": listed, "by_item": by_item, "url": c.url}))
    """,
        token=alice,
    )
    slug = out["slug"]
    assert slug.startswith("alice/tone-adapters-") and out["again"] == slug and out["dup"] == 3
    assert out["items"] == [["alice/tone", "start here"], ["alice/style", None], ["alice/secret-one", None]]
    assert out["after"][0] == "Polite adapters" and out["after"][1][0] == "alice/style"
    assert out["listed"] == [slug] and out["by_item"] == [slug]
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
    assert httpx.get(f"{hub.url}/api/collections/{slug}").json()["title"] == "Polite adapters"
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
