"""Commit semantics of the HF view with the unmodified ``huggingface_hub``: ``parent_commit`` is a
compare-and-swap on ``main`` (a stale parent is HF's 412 and stores nothing, also under a real
race of two clients), and concurrent commits without a parent never lose each other's files."""

from __future__ import annotations

import httpx

from tests.hf.hf_harness import client, versions

RACE = """
import threading
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError
api = HfApi()
repo = "{repo}"
api.create_repo(repo, exist_ok=True)
api.upload_file(path_or_fileobj=b"seed", path_in_repo="seed.txt", repo_id=repo)
rounds = []
for n in range({rounds}):
    parent = api.model_info(repo).sha if {with_parent} else None
    start, outcome = threading.Barrier(2), {{}}
    def push(who):
        start.wait()
        try:
            api.create_commit(repo, [CommitOperationAdd(f"r{{n}}-{{who}}.txt", f"{{n}} {{who}}".encode())],
                              commit_message=f"round {{n}} {{who}}", parent_commit=parent)
            outcome[who] = "ok"
        except HfHubHTTPError as e:
            outcome[who] = [e.response.status_code, e.response.json().get("error")]
    threads = [threading.Thread(target=push, args=(w,)) for w in ("a", "b")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    files = sorted(f for f in api.list_repo_files(repo) if f.startswith(f"r{{n}}-"))
    rounds.append({{"outcome": outcome, "files": files}})
print(json.dumps({{"rounds": rounds}}))
"""


def test_parent_commit_race_exactly_one_wins_each_round(hub, run_hf):
    token = hub.token("racer")
    out = run_hf(RACE.format(repo="racer/cas", rounds=8, with_parent=True), token=token)
    stale = "The branch was updated since you opened this page. Please refresh and try again."
    for entry in out["rounds"]:
        results = entry["outcome"]
        winners = [who for who, result in results.items() if result == "ok"]
        losers = [result for result in results.values() if result != "ok"]
        assert len(winners) == 1 and losers == [[412, stale]], results
        assert entry["files"] == [f"r{out['rounds'].index(entry)}-{winners[0]}.txt"]  # the loser stored nothing
    assert len(versions(hub, token, "racer/cas")) == 2 + 8  # creation, the seed, one version per round


def test_concurrent_commits_without_parent_keep_every_file(hub, run_hf):
    token = hub.token("racer")
    out = run_hf(RACE.format(repo="racer/merge", rounds=6, with_parent=False), token=token)
    for n, entry in enumerate(out["rounds"]):
        assert entry["outcome"] == {"a": "ok", "b": "ok"}
        assert entry["files"] == [f"r{n}-a.txt", f"r{n}-b.txt"]  # neither commit lost the other's file


def test_stale_parent_is_412_and_stores_nothing(hub, run_hf):
    token = hub.token("racer")
    out = run_hf(
        """
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError
        api = HfApi()
        api.create_repo("racer/stale")
        first = api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id="racer/stale").oid
        api.upload_file(path_or_fileobj=b"2", path_in_repo="two.txt", repo_id="racer/stale")
        try:
            api.upload_file(path_or_fileobj=b"3", path_in_repo="three.txt", repo_id="racer/stale", parent_commit=first)
            result = "accepted"
        except HfHubHTTPError as e:
            result = [e.response.status_code, e.response.headers.get("X-Error-Code"), e.response.json()["error"]]
        print(json.dumps({"result": result, "files": sorted(api.list_repo_files("racer/stale"))}))
    """,
        token=token,
    )
    assert out["result"] == [
        412,
        "PreconditionFailed",
        "The branch was updated since you opened this page. Please refresh and try again.",
    ]
    assert "three.txt" not in out["files"] and {"one.txt", "two.txt"} <= set(out["files"])
    assert "three.txt" not in {f["path"] for f in client(hub, token).resolve("racer/stale", "main")["files"]}


def test_a_fresh_repo_has_main_with_gitattributes(hub, run_hf):
    token = hub.token("carol")
    out = run_hf(
        """
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError
        api = HfApi()
        api.create_repo("carol/fresh")
        info = api.model_info("carol/fresh")
        try:
            hf_hub_download("carol/fresh", "missing.txt")
            missing = "found"
        except EntryNotFoundError:
            missing = "EntryNotFoundError"
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="carol/fresh")
        print(json.dumps({"sha": info.sha, "files": [s.rfilename for s in info.siblings], "missing": missing,
                          "exists": api.file_exists("carol/fresh", "missing.txt"),
                          "attributes": open(hf_hub_download("carol/fresh", ".gitattributes")).read()}))
    """,
        token=token,
    )
    assert len(out["sha"]) == 40 and out["files"] == [".gitattributes"]
    assert out["missing"] == "EntryNotFoundError" and out["exists"] is False
    assert "*.safetensors filter=lfs diff=lfs merge=lfs -text\n" in out["attributes"]
    assert versions(hub, token, "carol/fresh") == ["1.0.0", "0.0.0"]  # the first real commit is still 1.0.0


def test_model_card_push_and_metadata_update_validate_anonymously(hub, run_hf):
    token = hub.token("carol")
    out = run_hf(
        """
        from huggingface_hub import HfApi, ModelCard, ModelCardData, RepoCard, metadata_update, metadata_load
        from huggingface_hub import hf_hub_download
        api = HfApi()
        api.create_repo("carol/carded")
        card = ModelCard.from_template(ModelCardData(license="mit", library_name="peft"), model_id="carded")
        card.push_to_hub("carol/carded")
        metadata_update("carol/carded", {"model-index": [{"name": "carded", "results": [{
            "task": {"type": "text-generation"}, "dataset": {"type": "wiki", "name": "Wiki"},
            "metrics": [{"type": "accuracy", "value": 0.5}]}]}]})
        errors = {}
        for key, call in [("license", lambda: metadata_update("carol/carded", {"license": "nope"}, overwrite=True)),
                          ("index", lambda: RepoCard("---\\nmodel-index:\\n- name: x\\n---\\n").validate("model"))]:
            try:
                call()
                errors[key] = "accepted"
            except ValueError as e:
                errors[key] = str(e)
        meta = metadata_load(hf_hub_download("carol/carded", "README.md", force_download=True))
        print(json.dumps({"meta": meta, "errors": errors}))
    """,
        token=token,
    )
    assert out["meta"]["license"] == "mit" and out["meta"]["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.5
    assert out["errors"]["license"].startswith('- Error: "license" must be one of [apache-2.0, mit')
    assert out["errors"]["index"] == '- Error: "model-index[0].results" must be an array'
    assert versions(hub, token, "carol/carded") == ["1.0.1", "1.0.0", "0.0.0"]  # the refused updates stored nothing


def test_exists_helpers_answer_false_and_ids_ignore_case(hub, run_hf):
    token = hub.token("Dora")
    out = run_hf(
        """
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo("Dora/Mixed-Case")
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="Dora/Mixed-Case")
        print(json.dumps({
            "repo": [api.repo_exists("Dora/Mixed-Case"), api.repo_exists("dora/mixed-case"),
                     api.repo_exists("no-namespace"), api.repo_exists("dora/absent")],
            "file": [api.file_exists("DORA/MIXED-CASE", "x.txt"), api.file_exists("dora/mixed-case", "y.txt"),
                     api.file_exists("no-namespace", "x.txt"), api.file_exists("dora/absent", "x.txt")],
            "revision": [api.revision_exists("dora/mixed-case", "main"),
                         api.revision_exists("dora/mixed-case", "no-such-rev"),
                         api.revision_exists("no-namespace", "main")],
            "id": api.model_info("dora/MIXED-case").id,
            "bytes": open(hf_hub_download("dora/mixed-case", "x.txt"), "rb").read().decode(),
        }))
    """,
        token=token,
    )
    assert out["repo"] == [True, True, False, False]
    assert out["file"] == [True, False, False, False]
    assert out["revision"] == [True, False, False]
    assert out["id"] == "Dora/Mixed-Case" and out["bytes"] == "x"  # the stored spelling wins


def test_unmatched_repo_paths_carry_an_error_code(hub):
    import httpx

    for method, path in [
        ("GET", "/api/models/solo"),
        ("GET", "/api/models/a/b/c/d/unknown"),
        ("POST", "/api/models/solo/preupload/main"),
        ("HEAD", "/solo/resolve/main/x.txt"),
    ]:
        r = httpx.request(method, hub.url + path, headers={"Authorization": f"Bearer {hub.token('Dora')}"})
        assert r.status_code == 404 and r.headers["X-Error-Code"] == "RepoNotFound", (method, path)
    token = hub.token("Dora")
    client(hub, token).create_repo("Dora/served")
    unknown = httpx.post(
        f"{hub.url}/api/models/dora/served/no-such-thing/x", headers={"Authorization": f"Bearer {token}"}
    )
    assert unknown.status_code == 404 and unknown.headers["X-Error-Code"] == "EntryNotFound"
    assert unknown.json()["error"] == "POST /api/models/Dora/served/no-such-thing/x is not served by this hub"


def test_list_repo_commits_formatted(hub, run_hf):
    token = hub.token("carol")
    out = run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("carol/history")
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="carol/history",
                        commit_message="add <x>", commit_description="first line\\n\\nsecond & last")
        plain = api.list_repo_commits("carol/history")
        rich = api.list_repo_commits("carol/history", formatted=True)
        print(json.dumps({"plain": [c.formatted_title for c in plain],
                          "rich": [[c.title, c.formatted_title, c.formatted_message] for c in rich]}))
    """,
        token=token,
    )
    assert out["plain"] == [None, None]
    assert out["rich"][0] == ["add <x>", "add &lt;x&gt;", "<p>first line</p><p>second &amp; last</p>"]
    assert out["rich"][1][:2] == ["initial commit", "initial commit"]


DELETE_LAST = """
from huggingface_hub import CommitOperationDelete, HfApi, hf_hub_download
api = HfApi()
repo = "tilda/last"
api.create_repo(repo)
api.upload_file(path_or_fileobj=b"only", path_in_repo="a.txt", repo_id=repo)
api.create_branch(repo, branch="dev")
before = api.model_info(repo).sha
on_main = api.create_commit(repo, [CommitOperationDelete("a.txt"), CommitOperationDelete(".gitattributes")],
                            commit_message="delete everything")
api.delete_file("a.txt", repo, revision="dev")
api.delete_file(".gitattributes", repo, revision="dev")
print(json.dumps({
    "main": api.list_repo_files(repo), "dev": api.list_repo_files(repo, revision="dev"),
    "siblings": len(api.model_info(repo).siblings), "head": api.model_info(repo).sha == on_main.oid,
    "titles": [c.title for c in api.list_repo_commits(repo)][:2],
    "old": open(hf_hub_download(repo, "a.txt", revision=before)).read(),
}))
"""


def test_deleting_the_last_file_is_an_empty_commit_on_main_and_on_a_branch(hub, run_hf):
    token = hub.token("tilda")
    out = run_hf(DELETE_LAST, token=token)
    assert out["main"] == [] and out["dev"] == [] and out["siblings"] == 0 and out["head"] is True
    assert out["titles"] == ["delete everything", "Upload a.txt with huggingface_hub"]
    assert out["old"] == "only"  # the earlier commit keeps its file
    assert client(hub, token).resolve("tilda/last", "main")["files"] == []
    for page in ("", "/tree/main"):  # the site shows the empty repo
        assert httpx.get(f"{hub.url}/tilda/last{page}").status_code == 200, page
