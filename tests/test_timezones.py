"""The site time zone (`site.timezone`, a tenant's `timezone` setting): how dates are shown by the theme and by
expressions, how feeds stamp them (RFC 3339, UTC), and how publish dates without an offset are read."""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from lxml import html as lxml_html
from support import SITES, copy_site

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.dates import get_zone, rfc3339, show
from mbsite.expressions import evaluate
from mbsite.reporter import BufferReporter
from mbsite.routes import build_route_table
from mbsite.site import load_model, open_site_db


def make_site(root: Path, zone: str | None, settings: dict | None = None) -> Path:
    """tests/sites/timezones (tenant t: a post at 23:30 UTC, a post of a date, a page published at a local time)
    with the site's time zone `zone` and the tenant's `settings`."""
    overrides = {}
    if zone:
        overrides["mbsite.toml"] = f'[site]\ntimezone = "{zone}"\n' + (SITES / "timezones" / "mbsite.toml").read_text()
    if settings:
        tenant = {"slug": "t", "name": "T", "domains": ["t.example"], "settings": settings}
        overrides["content/seed/site.yaml"] = json.dumps({"entity": "Tenant", "records": [tenant]})
    return copy_site("timezones", root, overrides)


def built(site: Path) -> Path:
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]
    return site / "build" / "t" / "public"


def shown(public: Path, path: str) -> tuple[str, str]:
    doc = lxml_html.fromstring((public / path.strip("/") / "index.html").read_bytes())
    time_ = doc.xpath("//header[@class='page-head']//time")[0]
    return time_.text_content(), time_.get("datetime")


def test_dates_are_shown_in_the_site_time_zone_whatever_the_machine_zone(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # +14: the machine's zone must not matter
    time.tzset()
    try:
        public = built(make_site(tmp_path / "site", "Europe/Berlin"))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert shown(public, "/blog/late") == ("2024-01-06", "2024-01-06T00:30:00+01:00")
    assert shown(public, "/blog/day") == ("2024-01-03", "2024-01-03")  # a calendar day stays that day
    feed = (public / "feed.xml").read_text()
    assert "<updated>2024-01-05T23:30:00Z</updated>" in feed      # RFC 3339 in UTC
    assert "<updated>2024-01-02T23:00:00Z</updated>" in feed      # the day's midnight in Berlin


def test_without_a_time_zone_dates_are_utc(tmp_path: Path) -> None:
    public = built(make_site(tmp_path / "site", None))
    assert shown(public, "/blog/late") == ("2024-01-05", "2024-01-05T23:30:00Z")
    assert "<updated>2024-01-03T00:00:00Z</updated>" in (public / "feed.xml").read_text()


def test_a_tenant_time_zone_setting_overrides_the_site(tmp_path: Path) -> None:
    public = built(make_site(tmp_path / "site", "Europe/Berlin", {"timezone": "America/New_York"}))
    assert shown(public, "/blog/late") == ("2024-01-05", "2024-01-05T18:30:00-05:00")


@pytest.mark.parametrize(("zone", "published"), [("Europe/Berlin", True), ("UTC", False)])
def test_a_publish_date_without_offset_is_a_time_of_the_site_zone(tmp_path: Path, zone: str, published: bool) -> None:
    config = load_config(make_site(tmp_path / "site", zone))
    engine, _ = open_site_db(config)
    try:
        model = load_model(config, engine, [])
        # 2029-12-31 23:45 UTC: past 00:30 in Berlin (23:30 UTC), not yet 00:30 UTC.
        now = int(dt.datetime(2029, 12, 31, 23, 45, tzinfo=dt.timezone.utc).timestamp() * 1000)
        table = build_route_table(model.tables["t"].tenant, model.sources, model.packages, model.store, now=now,
                                  config=config)
        assert ("/soon" in table.routes) is published
    finally:
        engine.dispose()


class ZoneScope:
    timezone = "Asia/Tokyo"

    def lookup(self, name: str) -> tuple[bool, object]:
        return (True, 1704497400000) if name == "ms" else (False, None)   # 2024-01-05T23:30:00Z


def test_expressions_show_dates_in_the_render_time_zone() -> None:
    assert evaluate("ms | date('datetime')", ZoneScope()) == "2024-01-06 08:30"
    assert evaluate("new Date(ms).toLocaleDateString()", ZoneScope()) == "2024-01-06"
    assert evaluate("new Date(ms).toISOString()", ZoneScope()) == "2024-01-05T23:30:00.000Z"  # UTC, with Z
    assert evaluate("ms | date('datetime')", {"ms": 1704497400000}) == "2024-01-05 23:30"  # no zone: UTC


def test_display_formats() -> None:
    berlin = get_zone("Europe/Berlin")
    long = show("2024-01-05T23:30:00Z", berlin, "long", "de")  # (CLDR versions differ in the joining words)
    assert long.startswith("6. Januar 2024") and "00:30:00 MEZ" in long
    assert show("2024-01-06", berlin, "long", "de") == "6. Januar 2024"
    assert show("2024-01-06", berlin, "datetime") == "2024-01-06"  # a day has no time to show
    assert show("not a date", berlin) == "not a date"
    assert rfc3339(None) == "1970-01-01T00:00:00Z"
