"""The package's layout as docs/design.rst describes it: each module's imports
from the package, and no import running back up (no cycle)."""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sklearn_rnn"
DESIGN = Path(__file__).resolve().parents[1] / "docs" / "design.rst"


def package_imports(path):
    """The package's modules that ``path`` imports, by module name."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                imported.add(node.module.split(".")[0])
            else:
                imported.update(alias.name for alias in node.names)
    return imported


MODULES = {
    path.stem: package_imports(path)
    for path in PACKAGE.glob("*.py")
    if path.stem not in ("__init__", "__main__")
}


def documented_imports():
    """Module name -> the package modules design.rst's table says it imports."""
    text = DESIGN.read_text()
    table = text[text.index("   * - Module") : text.index("\nDecisions\n")]
    rows = {}
    for row in table.split("\n   * - ")[1:]:
        cells = row.split("\n     - ")
        name = re.fullmatch(r"``(\w+)(?:\.py|/)``", cells[0].strip())
        if name is None:
            continue
        rows[name.group(1)] = set(re.findall(r"``(\w+)``", cells[-1]))
    return rows


def test_every_module_is_in_the_design_table_with_its_imports():
    documented = documented_imports()
    assert set(MODULES) <= set(documented)
    for module, imports in MODULES.items():
        assert documented[module] == imports, module


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_leads_back_to_the_module(module):
    seen, stack = set(), list(MODULES[module])
    while stack:
        name = stack.pop()
        assert name != module, f"{module} imports itself through {sorted(seen)}"
        if name not in seen:
            seen.add(name)
            stack.extend(MODULES.get(name, ()))
