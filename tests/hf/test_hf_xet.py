"""Large files through Xet with the unmodified ``huggingface_hub`` and ``hf_xet`` (the library's
default when installed; nothing here disables it), on a hub whose LFS threshold is 1 MiB.

``upload_folder`` of a 70 MB safetensors file of random bytes (two xorbs, about a thousand chunks),
two compressible files (hf_xet sends their chunks LZ4 and byte-grouped LZ4 compressed) and a small
inline file: everything comes back identical through ``hf_hub_download`` and is charged to the
namespace. A second upload reuses the xorbs hf_xet remembers: the same file again (a shard and no
xorb), and, once gc has removed the xorbs' own data, a changed file whose unchanged part the hub
rebuilds from the first file. Hostile: no token, a hub token at the CAS, a read token, a stranger's
repo, a revoked token, malformed xorbs, bad shards, another user's xorb, a sha256 that does not
match, a namespace quota too small: each refused with its status and one line, nothing stored.
Runs on the two-host deployment too (``HUB_TEST_DEPLOYMENT=two-hosts``)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import struct
import time

import httpx
import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from hub_server.admin import create_user_token, list_user_tokens, revoke_user_token
from tests.hf.hf_harness import client, make_runner, versions
from tests.hf.xet_wire import Recorded, cas, fake_hash, shard, xet_token, xorb
from tests.support.deployment import deployment_kind, start_hub
from tests.support.hub_process import PostgresDatabase

THRESHOLD = 1024 * 1024
BIG = 70_000_000

UPLOAD = """
import hashlib
from huggingface_hub import HfApi, hf_hub_download
api = HfApi()
api.create_repo({repo!r}, exist_ok=True)
try:
    api.upload_folder(folder_path={folder!r}, repo_id={repo!r})
except Exception as e:
    print(json.dumps({{"error": [type(e).__name__, str(e)]}}))
    raise SystemExit(0)
got = {{}}
for name in {names!r}:
    path = hf_hub_download({repo!r}, name, cache_dir={cache!r})
    with open(path, "rb") as f:
        got[name] = hashlib.sha256(f.read()).hexdigest()
print(json.dumps({{"got": got}}))
"""


@pytest.fixture(scope="module")
def hub(request, tmp_path_factory):  # the HF suite's hub (embedded or two hosts), with a 1 MiB LFS threshold
    admin_url = os.environ.get("HUB_TEST_DATABASE_URL")
    database = PostgresDatabase(admin_url) if admin_url and deployment_kind() == "embedded" else None
    server = start_hub(
        tmp_path_factory.mktemp("xet-hub"),
        request,
        database.url if database else None,
        env={"HUB_HF_LFS_THRESHOLD_BYTES": str(THRESHOLD)},
    )
    yield server
    server.close()
    if database is not None:
        database.drop()


@pytest.fixture
def run_hf(hub, tmp_path):
    return make_runner(hub.url, tmp_path)  # one HF_HOME (and hf_xet cache) per test


@pytest.fixture
def recorded(hub):
    seen = Recorded(hub)
    yield seen
    seen.close()


def upload(run_hf, token: str, repo: str, folder, names: list[str], cache) -> dict:
    code = UPLOAD.format(repo=repo, folder=str(folder), names=names, cache=str(cache))
    return run_hf(code, token=token)


def write_safetensors(path, payload: bytes) -> str:
    """A valid one-tensor F32 safetensors file around ``payload``; returns its sha256."""
    values = len(payload) // 4
    header = json.dumps({"w": {"dtype": "F32", "shape": [values], "data_offsets": [0, 4 * values]}}).encode()
    header += b" " * (-len(header) % 8)
    data = len(header).to_bytes(8, "little") + header + payload[: 4 * values]
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_upload_folder_sends_large_files_through_xet_and_they_come_back_identical(hub, run_hf, recorded, tmp_path):
    token = hub.token("xena")
    rng = random.Random(7)
    folder = tmp_path / "model"
    folder.mkdir()
    values = 750_000
    shas = {
        "model.safetensors": write_safetensors(folder / "model.safetensors", rng.randbytes(BIG)),
        "scales.safetensors": write_safetensors(
            folder / "scales.safetensors", struct.pack(f"<{values}f", *(rng.gauss(0, 0.02) for _ in range(values)))
        ),
    }
    vocab = b"".join(b"token %d appears %d times in the corpus\n" % (i, i % 97) for i in range(100_000))
    (folder / "vocab.txt").write_bytes(vocab)
    (folder / "README.md").write_text("# small, inline\n")
    shas["vocab.txt"] = hashlib.sha256(vocab).hexdigest()
    shas["README.md"] = hashlib.sha256(b"# small, inline\n").hexdigest()

    out = upload(run_hf, token, "xena/model", folder, sorted(shas), tmp_path / "cache")

    assert out["got"] == shas
    files = {f["path"]: f for f in client(hub, token).resolve("xena/model", "main")["files"]}
    assert {name: files[name]["digest"] for name in shas} == {name: f"sha256:{sha}" for name, sha in shas.items()}
    xorbs = recorded.xorbs("xena")  # the three large files went through the hub's CAS
    assert len(xorbs) >= 2 and sum(x.size for x in xorbs) >= BIG
    assert all(x.data_digest is None for x in xorbs)  # every chunk is in a file now: the xorbs' data is let go
    sizes = sum((folder / name).stat().st_size for name in shas)
    usage = httpx.get(f"{hub.url}/api/v1/admin/quotas/xena", headers=auth(hub.token("root", "admin")))
    assert sizes <= usage.json()["used_bytes"] < sizes + 10_000  # the files (and .gitattributes), once each


def test_a_second_upload_reuses_the_xorbs_hf_xet_remembers(hub, run_hf, recorded, tmp_path):
    token = hub.token("yuri")
    rng = random.Random(11)
    payload = rng.randbytes(BIG)
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    first = write_safetensors(one / "model.safetensors", payload)
    assert upload(run_hf, token, "yuri/first", one, ["model.safetensors"], tmp_path / "c1")["got"] == {
        "model.safetensors": first
    }
    before = {x.hash for x in recorded.xorbs("yuri")}
    assert before

    again = upload(run_hf, token, "yuri/second", one, ["model.safetensors"], tmp_path / "c2")

    assert again["got"] == {"model.safetensors": first}
    assert {x.hash for x in recorded.xorbs("yuri")} == before  # hf_xet sent a shard and no xorb
    swept = CliRunner().invoke(main, ["admin", "gc", "--grace", "0s", "--json"], env=hub.admin_env())
    assert swept.exit_code == 0 and json.loads(swept.stdout)["removed_blobs"] >= len(before)  # the xorbs' data

    changed = write_safetensors(two / "model.safetensors", payload[:45_000_000] + rng.randbytes(25_000_000))
    third = upload(run_hf, token, "yuri/third", two, ["model.safetensors"], tmp_path / "c3")

    assert third["got"] == {"model.safetensors": changed}
    new = [x for x in recorded.xorbs("yuri") if x.hash not in before]
    # only the changed part travelled; the rest was read back from the first file's blob
    assert new and sum(x.size for x in new) < 30_000_000


def test_the_write_token_names_the_hubs_cas_and_only_writers_get_one(hub):
    owner, stranger, reader = hub.token("zoe"), hub.token("zack"), hub.token("zoe", "read")
    client(hub, owner).create_repo("zoe/open")
    client(hub, owner).create_repo("zoe/secret", private=True)

    granted = xet_token(hub, owner, "zoe/open")

    assert granted.status_code == 200
    body = granted.json()
    assert body["casUrl"] == f"{hub.url}/xet" and body["accessToken"].startswith("xet_")
    assert time.time() < body["exp"] <= time.time() + 3600
    assert granted.headers["X-Xet-Cas-Url"] == body["casUrl"]
    assert granted.headers["X-Xet-Access-Token"] == body["accessToken"]
    assert granted.headers["X-Xet-Token-Expiration"] == str(body["exp"])
    for token, repo, status, message in [
        (reader, "zoe/open", 403, "token scope 'read' cannot write; create a token with --scope write"),
        (stranger, "zoe/open", 403, "zack may not write to namespace 'zoe'"),
        (stranger, "zoe/secret", 404, "RepoNotFound"),
    ]:
        refused = xet_token(hub, token, repo)
        assert refused.status_code == status
        assert message in (refused.json()["error"] + refused.headers.get("X-Error-Code", ""))
    anonymous = httpx.get(f"{hub.url}/api/models/zoe/open/xet-write-token/main")
    assert anonymous.status_code == 401
    read_token = httpx.get(f"{hub.url}/api/models/zoe/open/xet-read-token/main", headers=auth(owner))
    assert read_token.status_code == 400 and read_token.headers["X-Error-Code"] == "XetNotSupported"
    assert read_token.json()["error"] == (
        "this hub serves downloads over plain HTTP (resolve), not Xet; Xet is for uploads"
    )


def test_the_cas_takes_only_a_live_xet_token(hub, recorded):
    token = hub.token("uma")
    client(hub, token).create_repo("uma/m")
    body = xorb(b"x" * 1000)
    for credential, message in [
        (None, "this call needs a Xet access token (GET .../xet-write-token/{revision})"),
        (token, "not a Xet access token: ask xet-write-token for one"),
        ("xet_" + "a" * 43, "invalid Xet access token: ask xet-write-token for a new one"),
    ]:
        with cas(hub, credential) as c:
            for path, content in [
                (f"/v1/xorbs/default/{fake_hash('u1')}", body),
                ("/v1/shards", shard()),
                ("/v2/shards", shard()),
            ]:
                answer = c.post(path, content=content)
                assert (answer.status_code, answer.json()["error"]["message"]) == (401, message)
    assert recorded.xorbs("uma") == []

    named = create_user_token(hub.settings, "uma", name="for-xet")
    xet = xet_token(hub, named, "uma/m").json()["accessToken"]
    with cas(hub, xet) as c:
        assert c.post(f"/v1/xorbs/default/{fake_hash('u2')}", content=body).json() == {"was_inserted": True}
        (row,) = [t for t in list_user_tokens(hub.settings, "uma") if t["name"] == "for-xet"]
        revoke_user_token(hub.settings, row["id"])
        answer = c.post(f"/v1/xorbs/default/{fake_hash('u3')}", content=body)
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "the hub token this Xet access token was issued for is revoked"
    assert [x.hash for x in recorded.xorbs("uma")] == [fake_hash("u2")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the xorb holds no chunk"),
        (b"\x01\x03\x00\x00\x00\x03\x00\x00abc", "bad chunk header (version 0 expected, 8 bytes)"),
        (xorb(b"abcdef")[:-1], "a chunk's stored length is 0 or runs past the end of the xorb"),
        (b"\x00\x03\x00\x00\x07\x03\x00\x00abc", "unknown compression scheme 7 in a chunk header"),
        (b"\x00\x05\x00\x00\x01\x05\x00\x00hello", "a chunk does not decompress: not an LZ4 frame (bad magic number)"),
        (b"\x00\x03\x00\x00\x00\x04\x00\x00abc", "an uncompressed chunk stores 3 bytes but declares 4"),
    ],
)
def test_a_malformed_xorb_is_refused_and_nothing_is_stored(hub, recorded, body, message):
    user = "malory"
    token = hub.token(user)
    client(hub, token).create_repo(f"{user}/m", exist_ok=True)
    xet = xet_token(hub, token, f"{user}/m").json()["accessToken"]
    blobs = recorded.blobs()
    name = fake_hash(message)

    with cas(hub, xet) as c:
        answer = c.post(f"/v1/xorbs/default/{name}", content=body)

    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == f"xorb {name}: {message}; nothing was stored"
    assert recorded.xorbs(user) == [] and recorded.blobs() == blobs


def test_a_xorb_needs_the_default_prefix_and_a_hash_for_a_name(hub):
    token = hub.token("nadia")
    client(hub, token).create_repo("nadia/m")
    xet = xet_token(hub, token, "nadia/m").json()["accessToken"]
    with cas(hub, xet) as c:
        elsewhere = c.post(f"/v1/xorbs/other/{fake_hash('n')}", content=xorb(b"a"))
        unnamed = c.post("/v1/xorbs/default/not-a-hash", content=xorb(b"a"))
        dedup = c.get(f"/v1/chunks/default/{fake_hash('n')}")
    assert (elsewhere.status_code, elsewhere.json()["error"]["message"]) == (
        404,
        "no CAS prefix 'other' here (only 'default')",
    )
    assert (unnamed.status_code, unnamed.json()["error"]["message"]) == (
        400,
        "a xorb is named by its Xet hash: 64 lowercase hex characters",
    )
    assert dedup.status_code == 404  # hf_xet reads it as "no global deduplication"


def test_shards_that_lie_are_refused_and_store_nothing(hub, recorded):
    vera, walt = hub.token("vera"), hub.token("walt")
    client(hub, vera).create_repo("vera/m")
    client(hub, walt).create_repo("walt/m")
    mine = xet_token(hub, vera, "vera/m").json()["accessToken"]
    theirs = xet_token(hub, walt, "walt/m").json()["accessToken"]
    chunks = [os.urandom(3000), os.urandom(5000)]
    content = b"".join(chunks)
    sha = hashlib.sha256(content).hexdigest()
    name, walts = fake_hash("vera-xorb"), fake_hash("walt-xorb")
    with cas(hub, theirs) as c:  # walt sends garbage under the name vera's xorb will have: it stays his
        assert c.post(f"/v1/xorbs/default/{name}", content=xorb(b"poison" * 1333 + b"xy")).status_code == 200
        assert c.post(f"/v1/xorbs/default/{walts}", content=xorb(b"walt's own" * 800)).status_code == 200
    with cas(hub, mine) as c:
        assert c.post(f"/v1/xorbs/default/{name}", content=xorb(*chunks)).json() == {"was_inserted": True}
        assert c.post(f"/v1/xorbs/default/{name}", content=xorb(*chunks)).json() == {"was_inserted": False}
        file_hash, wrong = fake_hash("file"), hashlib.sha256(b"something else").hexdigest()
        for body, status, message in [
            (b"nonsense", 400, "bad shard: the shard is cut short; nothing was stored"),
            (
                shard((file_hash, [(walts, 0, 1, 8000)], sha)),
                400,
                f"the shard uses xorb {walts}, which vera has not uploaded here; nothing was stored",
            ),
            (
                shard((file_hash, [(name, 0, 3, 8000)], sha)),
                400,
                f"the shard names chunks 0 to 3 of xorb {name}, which has 2; nothing was stored",
            ),
            (
                shard((file_hash, [(name, 0, 2, 7999)], sha)),
                400,
                f"the shard says chunks 0 to 2 of xorb {name} hold 7999 bytes; they hold 8000; nothing was stored",
            ),
            (
                shard((file_hash, [(name, 0, 2, 8000)], wrong)),
                400,
                (
                    f"file {file_hash} rebuilt from its xorbs does not hash to the sha256 the shard names "
                    f"({wrong}); nothing was stored"
                ),
            ),
        ]:
            answer = c.post("/v1/shards", content=body)
            assert (answer.status_code, answer.json()["error"]["message"]) == (status, message)
            streamed = c.post("/v2/shards", content=body)  # what hf_xet uses: the reason comes as the last frame
            assert streamed.status_code == 200
            assert json.loads(streamed.text.splitlines()[-1]) == {"type": "error", "message": message}
        assert not recorded.has_blob(wrong)
        # the xorb's data happens to be the file's bytes, but the file is not vera's blob until a shard passes
        assert httpx.head(f"{hub.url}/api/v1/blobs/sha256:{sha}", headers=auth(vera)).status_code == 404

        done = c.post("/v2/shards", content=shard((file_hash, [(name, 0, 2, 8000)], sha)))

    assert json.loads(done.text.splitlines()[-1]) == {"type": "result", "result": 1, "files": 1, "bytes": 8000}
    assert recorded.has_blob(sha)  # vera's own bytes, not walt's poison
    assert httpx.head(f"{hub.url}/api/v1/blobs/sha256:{sha}", headers=auth(vera)).status_code == 200
    assert httpx.head(f"{hub.url}/api/v1/blobs/sha256:{sha}", headers=auth(walt)).status_code == 404


def test_an_upload_past_the_namespace_quota_is_refused_and_stores_nothing(hub, run_hf, recorded, tmp_path):
    token, admin = hub.token("quinn"), hub.token("root", "admin")
    client(hub, token).create_repo("quinn/m")
    quota = httpx.put(f"{hub.url}/api/v1/admin/quotas/quinn", json={"max_bytes": 5_000_000}, headers=auth(admin))
    assert quota.status_code == 200
    folder = tmp_path / "model"
    folder.mkdir()
    sha = write_safetensors(folder / "model.safetensors", os.urandom(8_000_000))

    out = upload(run_hf, token, "quinn/m", folder, ["model.safetensors"], tmp_path / "cache")

    assert "413" in out["error"][1]  # hf_xet reports the status only
    assert versions(hub, token, "quinn/m") == []  # nothing published
    assert not recorded.has_blob(sha) and recorded.xorbs("quinn") == []
    xet = xet_token(hub, token, "quinn/m").json()["accessToken"]
    with cas(hub, xet) as c:
        answer = c.post(f"/v1/xorbs/default/{fake_hash('q')}", content=xorb(*[os.urandom(60_000)] * 100))
    assert answer.status_code == 413
    assert answer.json()["error"]["message"].startswith("namespace 'quinn' would use ")
    assert answer.json()["error"]["message"].endswith(
        " bytes with this upload (unpublished uploads count), over its quota of 5000000"
    )


def test_a_refused_shard_reaches_the_user_with_the_hubs_reason(hub, run_hf, recorded, tmp_path):
    """The org's quota is checked when the shard arrives (the xorbs counted against the sender's own
    namespace, which has room): hf_xet prints the hub's line from the streamed answer."""
    token, admin = hub.token("olaf", orgs=["tight"]), hub.token("root", "admin")
    client(hub, token).create_repo("tight/m")
    quota = httpx.put(f"{hub.url}/api/v1/admin/quotas/tight", json={"max_bytes": 5_000_000}, headers=auth(admin))
    assert quota.status_code == 200
    folder = tmp_path / "model"
    folder.mkdir()
    sha = write_safetensors(folder / "model.safetensors", os.urandom(8_000_000))

    out = upload(run_hf, token, "tight/m", folder, ["model.safetensors"], tmp_path / "cache")

    assert "namespace 'tight' would use " in out["error"][1] and "over its quota of 5000000" in out["error"][1]
    assert versions(hub, token, "tight/m") == []  # nothing published
    assert httpx.head(f"{hub.url}/api/v1/blobs/sha256:{sha}", headers=auth(token)).status_code == 404
    assert [x.data_digest is not None for x in recorded.xorbs("olaf")] == [True]  # staged, until used or swept
