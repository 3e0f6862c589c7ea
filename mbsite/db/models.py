"""The site's tables, the change feed and the build state, as SQLAlchemy Core tables.

Each table is also a class (`Tenant`, `PageConfig`, …) whose attributes are its columns (`Tenant.slug`) and which
stands for the table wherever SQLAlchemy takes one (`select(Tenant)`, `insert(PageConfig)`, `delete(Session)`):
the code reads like the ORM's without loading the ORM, which a build, a watch and every function process would
otherwise import for nothing (a tenth of a second of each start).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


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


metadata = MetaData()


class _TableClass(type):
    """The type of the table classes. For the type checker, any attribute of one is a column (Base sets them)."""

    if TYPE_CHECKING:
        def __getattr__(cls, name: str) -> Column[Any]: ...


class Base(metaclass=_TableClass):
    """A table of the database as a class: `__table__`, its columns as attributes, and the table itself wherever
    SQLAlchemy takes one (`__clause_element__`). `Base.metadata` holds every table."""

    metadata: ClassVar[MetaData] = metadata
    __table__: ClassVar[Table]
    __tablename__: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for column in cls.__table__.columns:
            setattr(cls, column.key, column)
        cls.__tablename__ = cls.__table__.name

    @classmethod
    def __clause_element__(cls) -> Table:
        return cls.__table__


class Tenant(Base):
    __table__ = Table(
        "tenants", metadata,
        Column("slug", String(64), primary_key=True),
        Column("name", String(255), nullable=False),
        Column("domains", JSONType, default=list, nullable=False),
        Column("settings", OrderedJSON, default=dict, nullable=False),
        Column("created_at", BigInteger, default=now_ms, nullable=False),
    )


class User(Base):
    __table__ = Table(
        "users", metadata,
        Column("id", String(64), primary_key=True),
        Column("tenant", ForeignKey("tenants.slug", ondelete="CASCADE"), index=True, nullable=False),
        Column("username", String(50), nullable=False),
        Column("email", String(255), nullable=True),
        Column("role", String(16), default="user", nullable=False),
        Column("created_at", BigInteger, default=now_ms, nullable=False),
        UniqueConstraint("tenant", "username", name="uq_users_tenant_username"),
    )


class Credential(Base):
    __table__ = Table(
        "credentials", metadata,
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        Column("password_hash", String(255), nullable=False),
        Column("changed_at", BigInteger, default=now_ms, nullable=False),
    )


class DisabledUser(Base):
    """A disabled account: it cannot sign in and has no sessions. A table of its own rather than a column of
    users, so a database made before accounts could be disabled gains it from create_all (no ALTER TABLE)."""

    __table__ = Table(
        "disabled_users", metadata,
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        Column("tenant", String(64), nullable=False),
        Column("disabled_by", String(64), nullable=True),
        Column("disabled_at", BigInteger, default=now_ms, nullable=False),
    )


class PasswordReset(Base):
    """A one-time password-reset token (only its SHA-256 is stored), spent by its first use."""

    __table__ = Table(
        "password_resets", metadata,
        Column("token_hash", String(128), primary_key=True),
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False),
        Column("tenant", String(64), nullable=False),
        Column("created_by", String(64), nullable=True),
        Column("created_at", BigInteger, default=now_ms, nullable=False),
        Column("expires_at", BigInteger, nullable=False),
    )


class Session(Base):
    __table__ = Table(
        "sessions", metadata,
        Column("id", String(64), primary_key=True),
        Column("token_hash", String(128), unique=True, nullable=False),
        Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False),
        Column("tenant", ForeignKey("tenants.slug", ondelete="CASCADE"), nullable=False),
        Column("csrf_token", String(128), default="", nullable=False),
        Column("created_at", BigInteger, default=now_ms, nullable=False),
        Column("expires_at", BigInteger, nullable=False),
        Column("last_activity", BigInteger, default=now_ms, nullable=False),
        Column("ip_address", String(64), nullable=True),
        Column("user_agent", String(512), nullable=True),
    )


class PageConfig(Base):
    __table__ = Table(
        "page_configs", metadata,
        Column("id", String(128), primary_key=True),
        Column("tenant", ForeignKey("tenants.slug", ondelete="CASCADE"), index=True, nullable=False),
        Column("path", String(255), nullable=False),
        Column("title", String(255), default="", nullable=False),
        Column("description", Text, nullable=True),
        Column("icon", String(64), nullable=True),
        Column("package", String(64), nullable=True),
        Column("component", String(128), nullable=True),
        Column("component_tree", OrderedJSON, nullable=True),
        Column("level", Integer, default=0, nullable=False),
        Column("requires_auth", Boolean, default=False, nullable=False),
        Column("published", Boolean, default=True, nullable=False),
        Column("sort_order", Integer, default=0, nullable=False),
        Column("params", OrderedJSON, nullable=True),
        Column("meta", OrderedJSON, nullable=True),
        Column("revalidate", Integer, nullable=True),
        Column("tags", JSONType, nullable=True),
        Column("created_at", BigInteger, default=now_ms, nullable=False),
        Column("updated_at", BigInteger, default=now_ms, onupdate=now_ms, nullable=False),
        UniqueConstraint("tenant", "path", name="uq_page_configs_tenant_path"),
    )


class InstalledPackage(Base):
    __table__ = Table(
        "installed_packages", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant", ForeignKey("tenants.slug", ondelete="CASCADE"), index=True, nullable=False),
        Column("package", String(64), nullable=False),
        Column("enabled", Boolean, default=True, nullable=False),
        Column("version", String(32), default="", nullable=False),
        Column("config", OrderedJSON, nullable=True),
        Column("sort_order", Integer, default=0, nullable=False),
        Column("installed_at", BigInteger, default=now_ms, nullable=False),
        UniqueConstraint("tenant", "package", name="uq_installed_packages_tenant_package"),
    )


class PackageData(Base):
    __table__ = Table(
        "package_data", metadata,
        Column("tenant", ForeignKey("tenants.slug", ondelete="CASCADE"), primary_key=True),
        Column("package", String(64), primary_key=True),
        Column("data", JSONType, default=dict, nullable=False),
        Column("updated_at", BigInteger, default=now_ms, onupdate=now_ms, nullable=False),
    )


class EntityRecord(Base):
    """A record of any entity: a JSON document validated by the entity's schema (no migration per entity)."""

    __table__ = Table(
        "entity_records", metadata,
        Column("tenant", ForeignKey("tenants.slug", ondelete="CASCADE"), primary_key=True),
        Column("package", String(64), primary_key=True),
        Column("entity", String(64), primary_key=True),
        Column("id", String(64), primary_key=True),
        Column("data", JSONType, default=dict, nullable=False),
        Column("version", Integer, default=1, nullable=False),
        Column("created_by", String(64), nullable=True),
        Column("created_at", BigInteger, default=now_ms, nullable=False),
        Column("updated_at", BigInteger, default=now_ms, onupdate=now_ms, nullable=False),
        Index("ix_entity_records_scope", "tenant", "package", "entity", "created_at"),
    )


class MediaAsset(Base):
    __table__ = Table(
        "media_assets", metadata,
        Column("tenant", ForeignKey("tenants.slug", ondelete="CASCADE"), primary_key=True),
        Column("id", String(80), primary_key=True),  # sha256 hex of the bytes
        Column("filename", String(255), nullable=False),
        Column("content_type", String(128), nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("width", Integer, nullable=True),
        Column("height", Integer, nullable=True),
        Column("created_by", String(64), nullable=True),
        Column("created_at", BigInteger, default=now_ms, nullable=False),
    )


class AuditEntry(Base):
    __table__ = Table(
        "audit_log", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant", String(64), nullable=False),
        Column("actor", String(64), nullable=True),
        Column("action", String(32), nullable=False),
        Column("target", String(255), nullable=False),
        Column("before", JSONType, nullable=True),
        Column("after", JSONType, nullable=True),
        Column("at", BigInteger, default=now_ms, nullable=False),
        Index("ix_audit_log_tenant_at", "tenant", "at"),
    )


class Change(Base):
    """The change feed: appended by database triggers on every write to a tracked table."""

    __table__ = Table(
        "changes", metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("tenant", String(64), nullable=True),
        Column("tbl", String(64), nullable=False),
        Column("row_key", String(255), nullable=False),
        Column("op", String(8), nullable=False),
        Column("at", BigInteger, nullable=False),
    )


class BuildState(Base):
    """Key/value state of the builder: change-feed cursor, schema version, last build time."""

    __table__ = Table(
        "build_state", metadata,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )


class BuildOutput(Base):
    """One rendered output and the inputs it read (the dependency graph)."""

    __table__ = Table(
        "build_outputs", metadata,
        Column("tenant", String(64), primary_key=True),
        Column("path", String(255), primary_key=True),
        Column("level", Integer, primary_key=True),
        Column("file", String(512), nullable=False),
        Column("html_hash", String(64), nullable=False),
        Column("inputs", JSONType, nullable=False),
        Column("digests", JSONType, nullable=False),
        Column("shared_with", Integer, nullable=True),
        Column("reason", String(255), default="", nullable=False),
        Column("rendered_at", BigInteger, default=now_ms, nullable=False),
        Column("revalidate_at", BigInteger, nullable=True),
        Column("tags", JSONType, nullable=True),
    )


class Revalidation(Base):
    """An on-demand revalidation request (by path or tag) waiting for the next build."""

    __table__ = Table(
        "revalidations", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant", String(64), nullable=True),
        Column("path", String(255), nullable=True),
        Column("tag", String(255), nullable=True),
        Column("requested_at", BigInteger, default=now_ms, nullable=False),
    )


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
