"""Architecture rules, enforced as tests: the import graph of ``src/prefgen`` read from its source.

- no import circles (function-level imports count: they are circles that only wait for a call);
- no module imports another module's ``_private`` names;
- the core (everything outside ``prefgen.methods``) never imports a method, and a method never
  imports another method: methods reach the core through the registry's entry points only;
- every key of the pipeline YAML is read by code outside the config models.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "prefgen"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def owning_module(name: str) -> str | None:
    """The module of ours that ``name`` (a module, or a module's attribute) lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> list[tuple[str, str]]:
    """(imported module of ours, imported name or '') for every import in ``module``."""
    found = []
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("prefgen"):
            for alias in node.names:
                target = owning_module(f"{node.module}.{alias.name}")
                is_module = target == f"{node.module}.{alias.name}"
                found.append((target, "" if is_module else alias.name))
        elif isinstance(node, ast.Import):
            found += [(owning_module(a.name), "") for a in node.names if a.name.startswith("prefgen")]
    return [(target, name) for target, name in found if target and target != module]


GRAPH = {module: sorted({target for target, _ in imports_of(module)}) for module in MODULES}


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def method_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "methods" else None


def test_the_graph_is_read_from_the_source():
    # The checks below mean nothing if the reader misses imports: a few known edges.
    assert "prefgen.registry" in GRAPH["prefgen.preflight"]
    assert "prefgen.methods.tool_use.tree" in GRAPH["prefgen.methods.tool_use.tree_search"]
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]


def test_no_import_circles():
    assert cycles(GRAPH) == []


def test_no_private_names_imported_across_modules():
    private = [
        f"{module} imports {name} from {target}"
        for module in MODULES
        for target, name in imports_of(module)
        if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []


def test_the_core_never_imports_a_method():
    core_to_method = [f"{m} -> {t}" for m, targets in GRAPH.items() if method_of(m) is None
                      for t in targets if method_of(t) is not None]
    assert core_to_method == []


def test_a_method_never_imports_another_method():
    crossing = [f"{m} -> {t}" for m, targets in GRAPH.items() if method_of(m)
                for t in targets if method_of(t) and method_of(t) != method_of(m)]
    assert crossing == []


def config_keys(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str]]:
    """(YAML path, field name) of every key of ``model`` and its nested section models."""
    keys = []
    for name, field in model.model_fields.items():
        keys.append((prefix + name, name))
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                keys += config_keys(candidate, f"{prefix}{name}.")
    return keys


def test_every_pipeline_key_is_read_by_the_code():
    from prefgen.config import PipelineConfig

    code = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py") if p.name != "config.py")
    # A key is read when code outside the config models reaches it as an attribute or by its name.
    unread = [path for path, name in config_keys(PipelineConfig)
              if not re.search(rf"\.{name}\b|[\"']{name}[\"']", code)]
    assert unread == []


@pytest.mark.parametrize("method", sorted(p.name for p in (PACKAGE / "methods").iterdir() if (p / "__init__.py").exists()))
def test_each_method_has_a_readme_and_a_light_plugin_table(method):
    package = PACKAGE / "methods" / method
    assert (package / "README.md").is_file()
    init = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    # The table is read whenever any plug-in name is looked up: it must import nothing.
    assert not [n for n in ast.walk(init) if isinstance(n, (ast.Import, ast.ImportFrom))]
