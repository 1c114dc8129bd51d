"""SQL tables of the hub: who (users, orgs, tokens), what (repos, versions, files) and
where the bytes are (blobs). Metadata parsed from model cards lives in indexed columns
so search stays fast with many repos."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)  # argon2; None: token-only user
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # by an operator


class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class OrgMember(Base):
    __tablename__ = "org_members"
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


# Names are unique whatever their case: ``Alice`` and ``alice`` are one account.
Index("uq_users_name_ci", func.lower(User.name), unique=True)
Index("uq_orgs_name_ci", func.lower(Org.name), unique=True)


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


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


class VersionTombstone(Base):
    """A version of a deleted repo: its name stays bound to its commit if the repo is re-created."""

    __tablename__ = "version_tombstones"
    full_name: Mapped[str] = mapped_column(String(201), primary_key=True)  # lower-case namespace/name
    version: Mapped[str] = mapped_column(String(100), primary_key=True)
    commit: Mapped[str] = mapped_column(String(40))
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Append-only record of who changed what (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_actor", "actor", "id"), Index("ix_audit_events_action", "action", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(400), default="")
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail_json: Mapped[str] = mapped_column(Text, default="{}")


class Repo(Base):
    __tablename__ = "repos"
    __table_args__ = (
        UniqueConstraint("namespace", "name", name="uq_repo_id"),
        Index("ix_repos_downloads", "downloads", "id"),
        Index("ix_repos_likes", "likes", "id"),
        Index("ix_repos_updated", "updated_at", "id"),
        Index("ix_repos_full_name", "full_name", "id"),
        Index("uq_repos_full_name_ci", "full_name", unique=True),  # full_name is lower(namespace/name)
        # filter + default sort (downloads) served by one index each, so a page never sorts the table
        *(Index(f"ix_repos_{col}_downloads", col, "downloads", "id")
          for col in ("namespace", "kind", "method", "task", "base_id", "base_fingerprint", "license")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(201))
    kind: Mapped[str] = mapped_column(String(10), index=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    downloads: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # = rows in ``likes``
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    latest_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    method: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    task: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    base_id: Mapped[str | None] = mapped_column(String(201), nullable=True, index=True)
    base_fingerprint: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    fingerprint: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    license: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    metadata_json: Mapped[str] = mapped_column(Text, default="{}")
    tags: Mapped[list["RepoTag"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    terms: Mapped[list["RepoTerm"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


# Byte order on every database, so ``term >= 'abc' AND term < 'abc' || U+10FFFF`` is an index range scan.
TERM_TYPE = String(100).with_variant(String(100, collation="C"), "postgresql")


class RepoTerm(Base):
    """One searchable word of a repo (see services/search_terms.py): free-text search walks this index.
    It carries the repo's full name (which never changes), so a word's repos come out of one index
    range already in name order."""

    __tablename__ = "repo_terms"
    __table_args__ = (Index("ix_repo_terms_term_name", "term", "full_name", "repo_id"),)
    term: Mapped[str] = mapped_column(TERM_TYPE, primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True, index=True)
    full_name: Mapped[str] = mapped_column(String(201))


class RepoTag(Base):
    __tablename__ = "repo_tags"
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("repo_id", "version", name="uq_version_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    commit: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author: Mapped[str | None] = mapped_column(String(100), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    yanked: Mapped[bool] = mapped_column(Boolean, default=False)
    yank_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    downloads: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    card_json: Mapped[str] = mapped_column(Text, default="{}")
    signed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # user whose key signed model.sig
    signing_key: Mapped[str | None] = mapped_column(String(71), nullable=True)  # that key's fingerprint
    files: Mapped[list["VersionFile"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="VersionFile.path"
    )


class VersionFile(Base):
    __tablename__ = "version_files"
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(71), index=True)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random id stored here only as its sha256, so
    deleting the row (sign out, revoke) ends the session at once."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class Like(Base):
    """One like per user per repo; ``Repo.likes`` counts them for the ``likes`` sort."""

    __tablename__ = "likes"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NamespaceQuota(Base):
    """Storage an admin allows a namespace (bytes of distinct blobs its live versions use)."""

    __tablename__ = "namespace_quotas"
    namespace: Mapped[str] = mapped_column(String(100), primary_key=True)
    max_bytes: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
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


class SigningKey(Base):
    """A user's public key for verifying ``model.sig`` (fingerprint = sha256 of its PEM); revoked, never deleted."""

    __tablename__ = "signing_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(71), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RefCommit(Base):
    """A snapshot reachable only through a branch, tag or pull-request ref (``repo_refs``): never a
    release. Its id is the content address of its files (``hub_rules.commit_id``), so a ref made
    at a version shares that version's commit id. A tagged semver name publishes a ``Version``."""

    __tablename__ = "ref_commits"
    __table_args__ = (UniqueConstraint("repo_id", "commit", name="uq_ref_commit"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), index=True)
    commit: Mapped[str] = mapped_column(String(40))
    parent_commit: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author: Mapped[str | None] = mapped_column(String(100), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    card_json: Mapped[str] = mapped_column(Text, default="{}")
    files: Mapped[list[RefCommitFile]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="RefCommitFile.path"
    )

    @property
    def version(self) -> str:
        """What messages and cursors call it: its commit id (it has no release name)."""
        return self.commit

    yanked = False
    yank_reason = None


class RefCommitFile(Base):
    __tablename__ = "ref_commit_files"
    ref_commit_id: Mapped[int] = mapped_column(ForeignKey("ref_commits.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(71), index=True)


class RepoRef(Base):
    """A named pointer to a commit: ``branch`` (moves with commits), ``tag`` (fixed; semver tags are
    versions instead) or ``pr`` (``refs/pr/N``, the head of pull request N)."""

    __tablename__ = "repo_refs"
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    commit: Mapped[str] = mapped_column(String(40))
    author: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Discussion(Base):
    """A discussion or pull request of a repo, numbered per repo (one sequence for both, as on HF)."""

    __tablename__ = "discussions"
    __table_args__ = (UniqueConstraint("repo_id", "num", name="uq_discussion_num"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), index=True)
    num: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    is_pull_request: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open, closed, merged, draft
    target_branch: Mapped[str | None] = mapped_column(String(200), nullable=True)
    base_commit: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the target's head when opened
    merge_commit: Mapped[str | None] = mapped_column(String(40), nullable=True)
    merged_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DiscussionEvent(Base):
    """One entry of a discussion's timeline: comment, status-change, title-change or commit."""

    __tablename__ = "discussion_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    discussion_id: Mapped[int] = mapped_column(ForeignKey("discussions.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    content: Mapped[str] = mapped_column(Text, default="")  # a comment's latest text
    data_json: Mapped[str] = mapped_column(Text, default="{}")  # status, from/to, oid/subject, edit history
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)


class Collection(Base):
    """A curated, ordered list of repos (HF's collections); its slug is ``namespace/title-words-<hex id>``."""

    __tablename__ = "collections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(260), unique=True)
    namespace: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    theme: Mapped[str] = mapped_column(String(20), default="default")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CollectionItem(Base):
    __tablename__ = "collection_items"
    __table_args__ = (UniqueConstraint("collection_id", "item_type", "item_id", name="uq_collection_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    object_id: Mapped[str] = mapped_column(String(24), unique=True)
    item_type: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[str] = mapped_column(String(260))
    position: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class RepoGate(Base):
    """A gated repo (``auto``: every request is accepted at once; ``manual``: the owners decide):
    its files download only for its owners and users whose access request was accepted."""

    __tablename__ = "repo_gates"
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AccessRequest(Base):
    __tablename__ = "access_requests"
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(24), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # pending, accepted, rejected
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
