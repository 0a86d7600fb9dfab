#!/usr/bin/env python3
"""Checks the module graph: every `#include "<folder>/…"` in src/, client/ and cli/ must be an edge
that the module table in docs/architecture.md allows. Run by ctest (test `include_graph`).

The table sits between `<!-- module-graph -->` and `<!-- /module-graph -->` in the docs, one row a
module: | `module` | modules it may include, comma-separated, or — |. A module is a folder under
src/ and may be nested (`sql/parser` is its own module inside `sql`): a file or an include belongs
to the longest module path it starts with. A module may always include its own headers. client/ and cli/ may include only the public headers `kalam/…` and their own
files. Exit status 0 when every include is allowed, 1 (listing each offending line) otherwise.
"""
import argparse
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
ROW = re.compile(r'^\|\s*`([a-z_/]+)`\s*\|\s*([^|]*)\|')
SOURCE_SUFFIXES = {".h", ".hpp", ".cc", ".cpp"}


def read_table(doc: Path) -> dict[str, set[str]]:
    text = doc.read_text(encoding="utf-8")
    m = re.search(r"<!-- module-graph -->(.*?)<!-- /module-graph -->", text, re.S)
    if not m:
        sys.exit(f"{doc}: no <!-- module-graph --> table")
    table: dict[str, set[str]] = {}
    for line in m.group(1).splitlines():
        row = ROW.match(line.strip())
        if not row:
            continue
        deps = {d.strip(" `") for d in row.group(2).split(",")} - {"", "—", "-"}
        table[row.group(1)] = deps
    for module, deps in table.items():
        unknown = deps - table.keys()
        if unknown:
            sys.exit(f"{doc}: module '{module}' names unknown modules {sorted(unknown)}")
    return table


def find_cycle(table: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(table[m]):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(table):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def sources(folder: Path):
    for p in sorted(folder.rglob("*")):
        if p.suffix in SOURCE_SUFFIXES and p.is_file():
            yield p


def owner(path: str, modules: list[str]) -> str | None:
    """The longest module path that `path` (relative to src/) starts with."""
    for m in modules:  # longest first
        if path == m or path.startswith(m + "/"):
            return m
    return None


def check(root: Path, table: dict[str, set[str]]) -> list[str]:
    errors = []
    src = root / "src"
    modules = sorted(table, key=len, reverse=True)
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        if folder.name not in table:
            errors.append(f"src/{folder.name}/: not in the module table of docs/architecture.md")
    for path in sources(src):
        rel_src = path.relative_to(src).as_posix()
        module = owner(rel_src, modules)
        if module is None:
            continue  # reported above with its folder
        allowed = table[module] | {module}
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or "/" not in m.group(1):
                continue
            target = owner(m.group(1), modules) or m.group(1).split("/", 1)[0]
            if target not in allowed:
                errors.append(f"{path.relative_to(root)}:{n}: {module} may not include "
                              f"\"{m.group(1)}\" (allowed: {', '.join(sorted(allowed))})")
    # Client side: public headers and its own files only, never server code.
    for side in ("client", "cli", "include"):
        for path in sources(root / side):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                m = INCLUDE.match(line)
                if m and "/" in m.group(1) and m.group(1).split("/", 1)[0] != "kalam":
                    errors.append(f"{path.relative_to(root)}:{n}: {side}/ may include only "
                                  f"\"kalam/…\" and its own files, not \"{m.group(1)}\"")
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args()
    table = read_table(args.root / "docs" / "architecture.md")
    cycle = find_cycle(table)
    if cycle:
        print("module table has a cycle: " + " → ".join(cycle))
        return 1
    errors = check(args.root, table)
    for e in errors:
        print(e)
    if errors:
        print(f"include graph: {len(errors)} include(s) break the module table")
        return 1
    print(f"include graph: ok ({len(table)} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
