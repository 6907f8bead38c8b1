"""The import graph of src/zeroforge keeps the layering of docs/ARCHITECTURE.md: no import circle
between modules, and no module imports a package of a higher layer than its own.

Every `zeroforge.*` import counts, also those inside functions (lazy imports); only imports under
`if TYPE_CHECKING:` do not (annotations, never executed). The layer table is read from
docs/ARCHITECTURE.md, so the page and this test cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "zeroforge"
LAYER_LINE = re.compile(r"^ {4}(\d+)\. ([a-z_]+(?:, [a-z_]+)*)(?:  |$)")


def module_files() -> dict[str, Path]:
    """Module name -> file, packages by their __init__.py."""
    modules = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        if _type_checking_only(node):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The zeroforge modules `name` imports (a name imported from a package is its submodule
    when there is one, else the package)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in modules:  # a C extension: its package
                target = target.rpartition(".")[0]
            if target.startswith(PACKAGE + ".") and target != name:
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layers() -> dict[str, int]:
    """Top-level package or module (under zeroforge) -> its layer, from docs/ARCHITECTURE.md."""
    table = {}
    for line in (ROOT / "docs" / "ARCHITECTURE.md").read_text().splitlines():
        match = LAYER_LINE.match(line)
        if match:
            for part in match.group(2).split(", "):
                table[part] = int(match.group(1))
    return table


def top(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_inside_functions_count_and_type_checking_ones_do_not(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from zeroforge.play.match import Match\n"
        "def f():\n"
        "    from zeroforge.formats import nnue\n"
        "    import zeroforge.chess._decoder\n"
        "    from ..train.games import game_for\n"
    )
    found = imports_of("zeroforge.data.m", path, module_files())
    assert found == {"zeroforge.formats.nnue", "zeroforge.chess", "zeroforge.train.games"}


def test_no_import_circle():
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_package_has_a_layer_and_none_imports_upward():
    table, graph = layers(), import_graph()
    tops = {top(module) for module in graph if module != PACKAGE}
    assert sorted(tops - set(table)) == [], "packages without a layer in docs/ARCHITECTURE.md"
    upward = [
        f"{module} (layer {table[top(module)]}) imports {target} (layer {table[top(target)]})"
        for module, targets in sorted(graph.items())
        if module != PACKAGE
        for target in sorted(targets)
        if table[top(target)] > table[top(module)]
    ]
    assert upward == []


def test_formats_and_the_games_rules_know_no_torch():
    """formats/ reads and writes bytes and arrays; go/ and chess/ are numpy and python-chess:
    a network (torch) enters above them."""
    torch_users = []
    for name, path in module_files().items():
        if top(name) not in ("formats", "go", "chess"):
            continue
        for node in _imports(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            torch_users += [name for target in names if target.split(".")[0] == "torch"]
    assert torch_users == []
