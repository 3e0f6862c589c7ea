"""Build hook: copy the built-in packages, schemas and default theme into the wheel as mbsite/builtin/."""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUILTINS = ("packages", "schemas", "themes/default")


class BuildWithBuiltins(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "mbsite" / "builtin"
        for rel in BUILTINS:
            src = ROOT / rel
            if src.is_dir():
                dst = target / rel
                if dst.exists():
                    shutil.rmtree(dst)
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithBuiltins})
