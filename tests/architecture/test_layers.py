"""The package's shape as code: the import contracts of pyproject.toml ([tool.importlinter]),
no import cycle, no import of another module's private name, only the four leaf modules loose, and
a dashboard that does not load the solver or the sources (docs/developer-guide.md)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "elfe_ems"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path, source_root: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("planner/core.py", "import sqlalchemy", "Pure planner"),
        ("planner/model.py", "from elfe_ems.store import tables", "Pure planner"),
        ("web/plans.py", "from elfe_ems.round import replay", "Read-only dashboard"),
        ("web/api.py", "from elfe_ems.sources import zabbix", "Read-only dashboard"),
        ("config.py", "from elfe_ems.timegrid import Grid", "Leaf configuration"),
        ("store/tables.py", "from elfe_ems.round import inputs", "Layers"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """The contracts can fail: the same package with one forbidden import added."""
    shutil.copytree(PACKAGE, tmp_path / "src" / "elfe_ems", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "elfe_ems" / module
    text = target.read_text(encoding="utf-8")
    marker = "from __future__ import annotations\n"
    target.write_text(text.replace(marker, f"{marker}\n{line}  # noqa\n", 1), encoding="utf-8")
    result = _lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle() -> None:
    assert _cycles(grimp.build_graph("elfe_ems")) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.c", imported="a.d")
    assert _cycles(graph) == [["a.b", "a.c"]]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_imports_a_private_name_of_another() -> None:
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                private = [a.name for a in node.names if a.name.startswith("_")]
                if node.module.startswith("elfe_ems") and private:
                    offences.append(f"{_module_name(path)}: {node.module}.{private}")
            if isinstance(node, ast.Import):
                offences += [
                    f"{_module_name(path)}: {a.name}"
                    for a in node.names
                    if a.name.startswith("elfe_ems") and "._" in a.name.replace(".__", ".")
                ]
    assert offences == []


def test_only_the_leaves_are_loose_modules_at_the_top() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == ["__main__.py", "config.py", "device_types.py", "logtags.py"]
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert {"sources", "store", "forecast", "learning", "round", "planner", "publish"} <= set(
        packages
    )


def test_the_dashboard_loads_neither_the_solver_nor_the_sources() -> None:
    """At run time, not only in the import graph: importing the web app and the scenario
    types does not load HiGHS, the planner's search, the round or a source client."""
    code = (
        "import sys, elfe_ems.web.app, elfe_ems.planner.scenario\n"
        "bad = ('highspy', 'elfe_ems.planner.core', 'elfe_ems.round', 'elfe_ems.sources',"
        " 'elfe_ems.jobs', 'zabbix_utils', 'httpx')\n"
        "print(sorted(m for m in sys.modules if m.startswith(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
