"""Entity permissions written as a list of conditions (each a set of keys that must all hold; any one grants):
they are read, and `check` reports every permission it cannot read."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from mbsite.check import check_entities
from mbsite.config import Config
from mbsite.entities import Condition, load_file
from mbsite.levels import ADMIN, USER


def test_the_upstream_condition_list_is_read(upstream: Path) -> None:
    [video] = load_file(upstream / "dbal/shared/api/schema/entities/youtube_clone/video.yaml")
    read, create, delete = video.acl["read"], video.acl["create"], video.acl["delete"]
    assert not read.denies_all and read.level is None
    assert set(read.conditions) == {Condition(level=USER, equals=(("published", True),)),
                                    Condition(level=USER, owner_field="uploaderId")}
    assert create.level == USER and not create.unread
    assert delete.level == ADMIN and Condition(level=USER, owner_field="uploaderId") in delete.conditions
    assert all(not acl.unread for acl in video.acl.values())


ENTITY = """\
entity: Clip
package: tube
fields:
  id: { type: cuid, primary: true, generated: true }
  uploaderId: { type: string }
acl:
  read:
    - authenticated: true
      uploaderId: { in: [a, b] }
  create: [editor]
  update: { self: true, row_level: "uploaderId IN (SELECT id FROM friends)" }
  delete: 7
"""


def test_check_reports_permissions_it_cannot_read(make_site: Callable[..., Path]) -> None:
    site = make_site({"schemas/entities/clip.yaml": ENTITY})
    problems = check_entities(Config(site_dir=site))
    found = sorted(p.message for p in problems)
    assert all(p.severity == "warning" and p.location.file == "schemas/entities/clip.yaml" for p in problems)
    assert len(found) == 4, found
    assert any("Clip" in m and "read" in m and "uploaderId" in m for m in found)
    assert any("create" in m and "editor" in m for m in found)
    assert any("update" in m and "row_level" in m for m in found)
    assert any("delete" in m for m in found)


def test_check_is_quiet_about_the_formats_it_reads(upstream: Path, make_site: Callable[..., Path]) -> None:
    text = (upstream / "dbal/shared/api/schema/entities/youtube_clone/video.yaml").read_text(encoding="utf-8")
    site = make_site({"schemas/entities/video.yaml": text})
    assert check_entities(Config(site_dir=site)) == []


def test_a_row_level_rule_may_restate_tenant_isolation() -> None:
    from mbsite.entities import parse_acl_rule

    acl = parse_acl_rule({"self": True, "row_level": "userId = $user.id AND tenantId = $context.tenantId"})
    assert acl.owner_field == "userId" and not acl.unread
