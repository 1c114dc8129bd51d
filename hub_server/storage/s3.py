"""Blob backend on any S3-compatible service (boto3). Bytes are hashed while streaming
to a temporary key, then copied to ``<prefix>/sha256/<hex>`` only when the digest
matches, so readers never see a partial or wrong object."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import parse_qs, urlparse

from .base import CHUNK, BlobNotFound, BlobStore, check_digest, check_range, verify

_PART = 8 * 1024 * 1024


class S3BlobStore(BlobStore):
    def __init__(self, url: str) -> None:
        import boto3  # only needed when this backend is configured

        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=query.get("endpoint"),
            region_name=query.get("region", "us-east-1"),
        )

    def _key(self, digest: str) -> str:
        hexd = check_digest(digest).split(":", 1)[1]
        return "/".join(p for p in (self.prefix, "sha256", hexd) if p)

    def put(self, stream: BinaryIO, expected_digest: str | None = None) -> tuple[str, int]:
        if expected_digest is not None:
            check_digest(expected_digest)
        temp = "/".join(p for p in (self.prefix, "tmp", uuid.uuid4().hex) if p)
        h, size = hashlib.sha256(), 0
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=temp)
        parts, number, buffer = [], 1, bytearray()
        try:
            while True:
                chunk = stream.read(CHUNK)
                if chunk:
                    h.update(chunk)
                    size += len(chunk)
                    buffer += chunk
                if len(buffer) >= _PART or (not chunk and (buffer or not parts)):
                    answer = self.client.upload_part(
                        Bucket=self.bucket, Key=temp, UploadId=upload["UploadId"], PartNumber=number, Body=bytes(buffer)
                    )
                    parts.append({"ETag": answer["ETag"], "PartNumber": number})
                    number, buffer = number + 1, bytearray()
                if not chunk:
                    break
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=temp, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=temp, UploadId=upload["UploadId"])
            raise
        digest = "sha256:" + h.hexdigest()
        try:
            verify(digest, expected_digest)
            self.client.copy(
                {"Bucket": self.bucket, "Key": temp}, self.bucket, self._key(digest)
            )
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=temp)
        return digest, size

    def open(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = check_range(self.size(digest), start, end)
        if end < start:
            return iter(())
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(digest), Range=f"bytes={start}-{end}")["Body"]
        return _chunks(body)

    def exists(self, digest: str) -> bool:
        try:
            self.size(digest)
            return True
        except BlobNotFound:
            return False

    def size(self, digest: str) -> int:
        from botocore.exceptions import ClientError

        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(digest))["ContentLength"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise BlobNotFound(f"blob {digest} not found") from None
            raise

    def delete(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))

    def iterate(self) -> Iterator[str]:
        prefix = (self.prefix + "/sha256/") if self.prefix else "sha256/"
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield "sha256:" + item["Key"].rsplit("/", 1)[1]


def _chunks(body) -> Iterator[bytes]:
    try:
        while chunk := body.read(CHUNK):
            yield chunk
    finally:
        body.close()
