"""`mbsite init DIR` → a new site folder using the built-in packages, schemas and default theme."""
from __future__ import annotations

import secrets
from pathlib import Path

from .errors import ConfigError, Location
from .passwords import hash_password

_TOML = """# mbsite site configuration; every key is documented in docs/configuration.md
[site]
title = "My mbsite"
base_url = "http://localhost:8000"

[build]
highlight = true
"""

_SEED = """# Seed data, loaded once into a new database (mbsite db init, or the first mbsite build).
entity: Tenant
records:
  - slug: main
    name: My Site
    domains: [main.localhost]
---
entity: User
records:
  - tenant: main
    username: admin
    email: admin@example.com
    role: admin
    # The argon2 hash of the password `mbsite init` printed once (a plain `password:` is hashed when seeded).
    password_hash: {password_hash}
---
entity: InstalledPackage
records:
  - {{tenant: main, package: mb_header, sortOrder: 1}}
  - {{tenant: main, package: mb_footer, sortOrder: 2}}
  - {{tenant: main, package: mb_nav, sortOrder: 3}}
  - {{tenant: main, package: mb_login, sortOrder: 4}}
  - {{tenant: main, package: mb_access_denied, sortOrder: 5}}
  - {{tenant: main, package: mb_dashboard, sortOrder: 6}}
"""

_INDEX = """---
title: Welcome
nav: true
---
This site was made with `mbsite init`. Edit `content/pages/index.md`, add posts under `content/blog/`,
and run `mbsite build`.
"""

_POST = """---
title: Hello, world
date: 2026-01-01
tags: [news]
description: The first post of this site.
---
A first post. Markdown with tables, footnotes[^1] and highlighted code:

```python
print("hello")
```

[^1]: Like this one.
"""


def scaffold(directory: Path, *, force: bool = False) -> str:
    """Write the skeleton; returns the generated admin password, which no file holds (the seed has its hash)."""
    if directory.exists() and any(directory.iterdir()) and not force:
        raise ConfigError("folder is not empty (use --force to write into it)", Location(file=str(directory)))
    password = secrets.token_urlsafe(12)
    files = {
        "mbsite.toml": _TOML,
        "content/seed/site.yaml": _SEED.format(password_hash=hash_password(password)),
        "content/pages/index.md": _INDEX,
        "content/blog/hello-world.md": _POST,
        "packages/README.md": "Site packages go here (one folder per package, upstream MetaBuilder format).\n",
        "themes/README.md": "Put a theme in themes/default/ (templates/ and static/) to override the built-in one.\n",
        "schemas/README.md": "Entity schemas for the CRUD API go in schemas/entities/.\n",
        # Generated output, and the local database with the build state (`mbsite db backup` keeps a copy of it).
        ".gitignore": "build/\n.mbsite/\n",
    }
    for rel, text in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or force:
            path.write_text(text, encoding="utf-8")
    return password
