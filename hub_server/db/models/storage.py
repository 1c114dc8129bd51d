"""Where the bytes are: blobs by sha256, who uploaded them, resumable upload sessions and the Xet upload
state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Blob(Base):
    __tablename__ = "blobs"
    digest: Mapped[str] = mapped_column(String(71), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # refreshed by every upload and publish that relies on the blob; gc only takes blobs idle past the grace
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class BlobUpload(Base):
    """Who proved they hold a blob's bytes (by uploading them): only they may reuse it unseen."""

    __tablename__ = "blob_uploads"
    digest: Mapped[str] = mapped_column(ForeignKey("blobs.digest", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class UploadSession(Base):
    """A resumable upload: who owns it, how many bytes arrived and the names of its parts in the
    blob store (JSON list, in order). ``received`` is compared-and-set, so two hosts appending to
    one session can never both win."""

    __tablename__ = "upload_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(100))
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    parts: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class XetXorb(Base):
    """A xorb (the unit ``hf_xet`` uploads: compressed chunks) one user sent, keyed by its Xet hash
    within that user's own xorbs. ``chunk_ends`` (one little-endian uint32 per chunk) says where each
    chunk ends in the xorb's data; ``data_digest`` names the blob holding that data (the chunks
    decompressed) while the hub still needs it, then becomes null once every chunk is found in
    files rebuilt from it (``XetRange``)."""

    __tablename__ = "xet_xorbs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunk_ends: Mapped[bytes] = mapped_column(LargeBinary)
    data_digest: Mapped[str | None] = mapped_column(String(71), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class XetRange(Base):
    """Chunks ``chunk_start`` to ``chunk_end`` (exclusive) of a user's xorb are the bytes of blob
    ``digest`` from ``file_offset`` on: written when a shard's file is rebuilt, so a later shard that
    deduplicates against the xorb (hf_xet keeps what it uploaded in a local cache for weeks) is
    served from the file after the xorb's own data is gone."""

    __tablename__ = "xet_ranges"
    __table_args__ = (Index("ix_xet_ranges_user_xorb", "user_id", "xorb"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    xorb: Mapped[str] = mapped_column(String(64))
    chunk_start: Mapped[int] = mapped_column(Integer)
    chunk_end: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(ForeignKey("blobs.digest", ondelete="CASCADE"), index=True)
    file_offset: Mapped[int] = mapped_column(BigInteger)


class XetToken(Base):
    """A short-lived Xet access token (stored hashed): what ``xet-write-token`` hands out for one
    user and one repo, derived from the hub token that asked (revoking that one ends it too)."""

    __tablename__ = "xet_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id", ondelete="CASCADE"), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
