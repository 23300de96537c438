"""The house by floor: no import runs up a floor, and the parts of `services/` form no cycle.

Floors, bottom to top: `schemas` (the contract), `services.rules` (pure rules), `services.documents`
(file formats), `services.platform` (settings, database, event log), `services.usecases` and
`services.views` (one transaction each; read models), the faces (`services.http`, `workers`), and
the composition root `services.cli`, the only part that may import `workers`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOOR = {"rules": 1, "documents": 2, "platform": 3, "usecases": 4, "views": 5, "http": 6, "cli": 7}


def _part(module: str) -> str | None:
    """`services.usecases.votes` → `usecases`; `workers.relay` → `workers`; others → None."""
    parts = module.split(".")
    if parts[0] == "services" and len(parts) > 1:
        return parts[1]
    return parts[0] if parts[0] in ("workers", "schemas") else None


def _imports() -> list[tuple[Path, str, str]]:
    """(file, the importing module, the imported module) for every import in the project."""
    found = []
    for top in ("schemas", "services", "workers"):
        for path in (ROOT / top).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found += [(path, module, alias.name) for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found += [(path, module, node.module)]
                    found += [(path, module, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_no_import_runs_up_a_floor() -> None:
    wrong = []
    for path, importer, imported in _imports():
        where, what = _part(importer), _part(imported)
        top = imported.split(".")[0]
        name = str(path.relative_to(ROOT))
        if where == "schemas" and not name.startswith("schemas/migrations/") and top in ("services", "workers"):
            wrong.append(f"{name} imports {imported}")
        elif (
            where == "rules" and top not in ("schemas", "services", "__future__") and top not in sys.stdlib_module_names
        ):
            wrong.append(f"{name} (pure rules) imports {imported}")
        elif where in FLOOR and what in FLOOR and FLOOR[what] > FLOOR[where]:
            wrong.append(f"{name} imports {imported}, a floor above")
        elif what == "workers" and where not in ("workers", "cli"):
            wrong.append(f"{name} imports {imported}: only the composition root imports workers")
        elif where == "workers" and what in ("http", "cli"):
            wrong.append(f"{name} imports {imported}: a worker imports no other face")
        elif importer.startswith("services.http.api") and imported.startswith("services.http.pages"):
            wrong.append(f"{name} imports {imported}: the API does not import the pages")
        elif importer.startswith("services.http.pages") and imported.startswith("services.http.api"):
            wrong.append(f"{name} imports {imported}: the pages do not import the API")
    assert not wrong, "\n".join(wrong)


def test_parts_of_services_form_no_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for path, importer, imported in _imports():
        where, what = _part(importer), _part(imported)
        if where and what and where != what and "migrations" not in path.parts:
            edges.setdefault(where, set()).add(what)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in edges.get(start, ()))

    cycles = sorted(part for part in edges if reaches(part, part, {part}))
    assert not cycles, f"import cycle through {cycles}: {edges}"
