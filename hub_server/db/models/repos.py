"""What: repos, their immutable versions and files, refs (branches, tags, pull-request heads) and redirects.
Metadata parsed from model cards lives in indexed columns so search stays fast with many repos."""

from __future__ import annotations

from datetime import datetime

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


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
        *(
            Index(f"ix_repos_{col}_downloads", col, "downloads", "id")
            for col in ("namespace", "kind", "method", "task", "base_id", "base_fingerprint", "license")
        ),
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
    tags: Mapped[list[RepoTag]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    terms: Mapped[list[RepoTerm]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


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
    # what the adapter can do (services/capabilities.py), indexed at publish; NULL on rows published before 0011
    capabilities_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    signed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # user whose key signed model.sig
    signing_key: Mapped[str | None] = mapped_column(String(71), nullable=True)  # that key's fingerprint
    files: Mapped[list[VersionFile]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="VersionFile.path"
    )


class VersionFile(Base):
    __tablename__ = "version_files"
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(71), index=True)


class VersionTombstone(Base):
    """A version of a deleted repo: its name stays bound to its commit if the repo is re-created."""

    __tablename__ = "version_tombstones"
    full_name: Mapped[str] = mapped_column(String(201), primary_key=True)  # lower-case namespace/name
    version: Mapped[str] = mapped_column(String(100), primary_key=True)
    commit: Mapped[str] = mapped_column(String(40))
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


class RepoRedirect(Base):
    """A repo's former name after ``move_repo``: requests naming it reach the repo under its new
    name, until a new repo takes the old name (which then wins)."""

    __tablename__ = "repo_redirects"
    full_name: Mapped[str] = mapped_column(String(201), primary_key=True)  # lower-case old namespace/name
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
