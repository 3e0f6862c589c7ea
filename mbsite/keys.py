"""What a page can depend on → the input key the dependency graph stores for it (one function per kind).

Keys are plain strings with a kind prefix, so the graph is a set of strings per output and an index from key to
outputs. Every place that records, computes or looks up an input builds its key here:

    file:<site-relative path>           a file read while rendering (its content digest is stored beside it)
    asset:<name>                        a theme asset's content-hashed URL
    image:<site-relative path>          an image a page shows (its content digest, or "missing", is stored beside it)
    row:<table>:<key>                   a database row (tenants, installed packages, page configs, package data)
    query:<tenant>:<package>.<entity>   an entity query (a write to that entity re-runs the page's queries)
    component:<package>:<id>            a component rendered (its file is recorded as a file too)
    nav:<tenant>:<level>                the tenant's navigation at one level (the chrome)
    routes:<tenant>:<lang>              every page of one language a listing could show (the home listing, the
                                        gallery index)
    posts:<tenant>:<lang>               the blog's posts of one language as listings show them
    translations:<tenant>:<key>         the translations of a page (their languages, paths and levels)
    catalog:<lang>                      the theme's message catalogs a page in that language reads
    tags:<tenant>                       which tag pages exist, from which level (a page links its tags to them)
    tokens:<tenant>                     the URL of the tenant's stylesheet of design tokens
    feed:<tenant>[:<root>]              whether the tenant has a blog (at a language root: `/de`), and so a feed
                                        to announce
    nearby:<tenant>:<path>              a blog post's older and newer neighbours
    route:<tenant>:<path>               a route's own definition (its fingerprint)
    paths:<tenant>                      every route of the tenant with its kind, title, level and source (the panel)
    table:<tenant>:<table>              any row of one tenant in one table (the panel pages list whole tables);
                                        table:*:<table> any row of any tenant
"""
from __future__ import annotations


def file(relpath: str) -> str:
    return "file:" + relpath


def asset(name: str) -> str:
    return "asset:" + name


def image(relpath: str) -> str:
    return "image:" + relpath


def row(table: str, key: str) -> str:
    return f"row:{table}:{key}"


def query(tenant: str, package: str, entity: str) -> str:
    return f"query:{tenant}:{package}.{entity}"


def component(package: str, component_id: str) -> str:
    return f"component:{package}:{component_id}"


def nav(tenant: str, level: int | str) -> str:
    return f"nav:{tenant}:{level}"


def routes(tenant: str, lang: str = "") -> str:
    return f"routes:{tenant}:{lang}" if lang else "routes:" + tenant


def posts(tenant: str, lang: str = "") -> str:
    return f"posts:{tenant}:{lang}" if lang else "posts:" + tenant


def translations(tenant: str, key: str) -> str:
    return f"translations:{tenant}:{key}"


def tags(tenant: str) -> str:
    return "tags:" + tenant


def tokens(tenant: str) -> str:
    return "tokens:" + tenant


def feed(tenant: str, root: str = "") -> str:
    return f"feed:{tenant}:{root}" if root else "feed:" + tenant


def nearby(tenant: str, path: str) -> str:
    return f"nearby:{tenant}:{path}"


def route(tenant: str, path: str) -> str:
    return f"route:{tenant}:{path}"


def table(tenant: str, name: str) -> str:
    return f"table:{tenant}:{name}"


def paths(tenant: str) -> str:
    return "paths:" + tenant


def catalog(lang: str) -> str:
    return "catalog:" + lang
