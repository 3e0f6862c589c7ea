"""SQLAlchemy 2.x models: the site's tables, the change feed and the build state."""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class JSONDocument(TypeDecorator[Any]):
    """JSON; jsonb on PostgreSQL. (A variant type would import every PostgreSQL driver's dialect on first
    use, asyncio included: a twentieth of a second of each SQLite build's start.)"""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


JSONType = JSONDocument()
# Component trees and page parameters keep their key order (jsonb would sort keys, and the order of props and
# style declarations is visible in the HTML): plain JSON on every database.
OrderedJSON = JSON()


def now_ms() -> int:
    return int(time.time() * 1000)


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"
    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    domains: Mapped[list[str]] = mapped_column(JSONType, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(OrderedJSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant", "username", name="uq_users_tenant_username"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.slug", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str] = mapped_column(String(16), default="user")
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class Credential(Base):
    __tablename__ = "credentials"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class DisabledUser(Base):
    """A disabled account: it cannot sign in and has no sessions. A table of its own rather than a column of
    users, so a database made before accounts could be disabled gains it from create_all (no ALTER TABLE)."""

    __tablename__ = "disabled_users"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    disabled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disabled_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class PasswordReset(Base):
    """A one-time password-reset token (only its SHA-256 is stored), spent by its first use."""

    __tablename__ = "password_resets"
    token_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class Session(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.slug", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    last_activity: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)


class PageConfig(Base):
    __tablename__ = "page_configs"
    __table_args__ = (UniqueConstraint("tenant", "path", name="uq_page_configs_tenant_path"),)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.slug", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    icon: Mapped[str | None] = mapped_column(String(64), nullable=True)
    package: Mapped[str | None] = mapped_column(String(64), nullable=True)
    component: Mapped[str | None] = mapped_column(String(128), nullable=True)
    component_tree: Mapped[Any | None] = mapped_column(OrderedJSON, nullable=True)
    level: Mapped[int] = mapped_column(Integer, default=0)
    requires_auth: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any] | None] = mapped_column(OrderedJSON, nullable=True)
    meta: Mapped[dict[str, Any] | None] = mapped_column(OrderedJSON, nullable=True)
    revalidate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tags: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, onupdate=now_ms)


class InstalledPackage(Base):
    __tablename__ = "installed_packages"
    __table_args__ = (UniqueConstraint("tenant", "package", name="uq_installed_packages_tenant_package"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.slug", ondelete="CASCADE"), index=True)
    package: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[str] = mapped_column(String(32), default="")
    config: Mapped[dict[str, Any] | None] = mapped_column(OrderedJSON, nullable=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    installed_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class PackageData(Base):
    __tablename__ = "package_data"
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.slug", ondelete="CASCADE"), primary_key=True)
    package: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[Any] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, onupdate=now_ms)


class EntityRecord(Base):
    """A record of any entity: a JSON document validated by the entity's schema (no migration per entity)."""

    __tablename__ = "entity_records"
    __table_args__ = (Index("ix_entity_records_scope", "tenant", "package", "entity", "created_at"),)
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.slug", ondelete="CASCADE"), primary_key=True)
    package: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ms, onupdate=now_ms)


class MediaAsset(Base):
    __tablename__ = "media_assets"
    tenant: Mapped[str] = mapped_column(ForeignKey("tenants.slug", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # sha256 hex of the bytes
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255))
    before: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    after: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


class Change(Base):
    """The change feed: appended by database triggers on every write to a tracked table."""

    __tablename__ = "changes"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tbl: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(255))
    op: Mapped[str] = mapped_column(String(8))
    at: Mapped[int] = mapped_column(BigInteger)


class BuildState(Base):
    """Key/value state of the builder: change-feed cursor, schema version, last build time."""

    __tablename__ = "build_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class BuildOutput(Base):
    """One rendered output and the inputs it read (the dependency graph)."""

    __tablename__ = "build_outputs"
    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(String(512))
    html_hash: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[Any] = mapped_column(JSONType)
    digests: Mapped[Any] = mapped_column(JSONType)
    shared_with: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(String(255), default="")
    rendered_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    revalidate_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tags: Mapped[Any | None] = mapped_column(JSONType, nullable=True)


class Revalidation(Base):
    """An on-demand revalidation request (by path or tag) waiting for the next build."""

    __tablename__ = "revalidations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(64), nullable=True)
    path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    tag: Mapped[str | None] = mapped_column(String(255), nullable=True)
    requested_at: Mapped[int] = mapped_column(BigInteger, default=now_ms)


# Tables whose writes enter the change feed, with (tenant column, key columns).
# Sessions are left out on purpose: they change on every request and never affect a page.
FEED_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tenants": ("slug", ("slug",)),
    "users": ("tenant", ("id",)),
    "credentials": ("", ("user_id",)),
    "page_configs": ("tenant", ("id",)),
    "installed_packages": ("tenant", ("package",)),
    "package_data": ("tenant", ("package",)),
    "entity_records": ("tenant", ("package", "entity", "id")),
    "media_assets": ("tenant", ("id",)),
    "disabled_users": ("tenant", ("user_id",)),
    "audit_log": ("tenant", ("id",)),
}
