"""The S3 server of the many-hosts deployment runs with authentication, as the README's recipe
starts it (an identity file): anonymous callers cannot list the bucket or read a blob, wrong
keys are refused, and only the hub's identity gets in."""

from __future__ import annotations

import httpx
import pytest


def test_anonymous_s3_listing_and_reads_are_refused(s3_server):
    client = s3_server.client()
    client.put_object(Bucket=s3_server.bucket, Key="auth-check/sha256/secret", Body=b"private bytes")
    listing = client.list_objects_v2(Bucket=s3_server.bucket, Prefix="auth-check/")
    assert [o["Key"] for o in listing["Contents"]] == ["auth-check/sha256/secret"]

    for url in (
        f"{s3_server.endpoint}/",
        f"{s3_server.endpoint}/{s3_server.bucket}",
        f"{s3_server.endpoint}/{s3_server.bucket}?list-type=2",
        f"{s3_server.endpoint}/{s3_server.bucket}/auth-check/sha256/secret",
    ):
        r = httpx.get(url, timeout=10)
        assert r.status_code == 403, (url, r.status_code, r.text[:300])
        assert b"private bytes" not in r.content and b"<Contents>" not in r.content and b"AccessDenied" in r.content
    r = httpx.put(f"{s3_server.endpoint}/{s3_server.bucket}/auth-check/planted", content=b"x", timeout=10)
    assert r.status_code == 403

    import boto3
    from botocore.exceptions import ClientError

    stranger = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="hub-test",
        aws_secret_access_key="guessed",
    )
    with pytest.raises(ClientError) as refused:
        stranger.list_objects_v2(Bucket=s3_server.bucket)
    assert refused.value.response["Error"]["Code"] in ("SignatureDoesNotMatch", "AccessDenied")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=s3_server.bucket, Prefix="auth-check/")["Contents"]]
    assert keys == ["auth-check/sha256/secret"]  # nothing was planted
    client.delete_object(Bucket=s3_server.bucket, Key="auth-check/sha256/secret")
