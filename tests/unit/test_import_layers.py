"""How the modules of functions/mediajobs may import each other, read from their source (ast:
every import statement, at module level, inside functions and under TYPE_CHECKING, plus
`importlib.import_module("mediajobs...")` calls with a literal name).

1. No cycles: no module reaches itself through imports (no two modules import each other).
2. Layers. A module may import modules of its own package and of any layer below its own,
   never one above, never another package of its own layer:

     4 top        cli, contract       the CLI and demos; the contract's models and generator
     3 callables  downloads           callables that belong to no kind (may use a kind's parts)
     2 kinds      exports, photos, scenes, selftest, video
     1 engine     jobs                reaches the kinds only through the strings of its registry
                                      (jobs/kinds.py, imported by importlib when a job runs)
     0 base       every other module directly under mediajobs/ (config, errors, validation,
                  cloud, storage_paths, names, object_urls, ...); base modules may import
                  each other

   So: kinds never import each other, the callables, `cli` or `contract`; nothing outside `cli`
   imports `cli`; `jobs` imports no kind; a new module directly under mediajobs/ is base until
   it is given a layer here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "mediajobs"

LAYERS: dict[str, int] = {
    "cli": 4,
    "contract": 4,
    "downloads": 3,
    "exports": 2,
    "photos": 2,
    "scenes": 2,
    "selftest": 2,
    "video": 2,
    "jobs": 1,
}
KINDS = {name for name, layer in LAYERS.items() if layer == 2}
BASE = 0

# Imports that break the rules today, each with the reason it is allowed for now. A fixed one
# must leave this list (test_known_exceptions_still_exist says so).
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def module_files() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[str]:
    """Every dotted name the module imports (a module, or a name inside one)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield first.value


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports (`from a import b` counts as a.b when that is a
    module, else as a)."""
    files = module_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets = set()
        for name in imported_names(module, path):
            target = name
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target not in (module, "mediajobs"):
                targets.add(target)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
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
                    work.append((child, iter(sorted(graph.get(child, ())))))
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


def package_of(module: str) -> str:
    """`jobs` for mediajobs.jobs.store, `downloads` for mediajobs.downloads."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(module: str) -> int:
    return LAYERS.get(package_of(module), BASE)


def allowed(importer: str, imported: str) -> bool:
    mine, theirs = package_of(importer), package_of(imported)
    if mine == theirs:
        return True
    if layer_of(importer) == layer_of(imported) == BASE:
        return True
    return layer_of(imported) < layer_of(importer)


def violations(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, targets in graph.items() for b in targets if not allowed(a, b)}


# ---------------------------------------------------------------- the rules


def test_no_module_reaches_itself_through_imports() -> None:
    assert cycles(import_graph()) == []


def test_imports_point_down_the_layers() -> None:
    found = violations(import_graph()) - KNOWN_EXCEPTIONS
    assert not found, "imports against the layers (see this file's docstring):\n" + "\n".join(
        f"  {a} -> {b}" for a, b in sorted(found)
    )


def test_known_exceptions_still_exist() -> None:
    fixed = KNOWN_EXCEPTIONS - violations(import_graph())
    assert not fixed, f"these no longer break the rules; remove them from KNOWN_EXCEPTIONS: {sorted(fixed)}"


def test_the_engine_reaches_kinds_only_through_its_registry() -> None:
    """The registry's "module:Class" strings name modules of the kind packages; nothing in
    jobs/ imports one (the layers say so above), so this is the engine's only way to a kind."""
    files = module_files()
    registered = set()
    for module, path in files.items():
        if package_of(module) == "jobs":
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
                if match := re.fullmatch(r"(mediajobs(?:\.\w+)+):\w+", text):
                    registered.add(match.group(1))
    assert registered, "no 'module:Class' registry strings found under jobs/"
    for module in registered:
        assert module in files and package_of(module) in KINDS, module


# ---------------------------------------------------------------- the reader itself


def test_the_reader_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert "mediajobs.video.stream" in graph["mediajobs.downloads"]  # module level
    assert "mediajobs.cli.demo_video" in graph["mediajobs.cli.__main__"]  # inside a function
    assert "mediajobs.jobs.models" in graph["mediajobs.cli.client"]
    assert "mediajobs.photos.processing" in graph["mediajobs.photos.kind"]  # inside a method


def test_cycles_and_layers_are_found_when_present() -> None:
    graph = {"mediajobs.a": {"mediajobs.b"}, "mediajobs.b": {"mediajobs.c"}, "mediajobs.c": {"mediajobs.a"}}
    assert cycles(graph) == [["mediajobs.a", "mediajobs.b", "mediajobs.c"]]
    assert cycles({"mediajobs.a": {"mediajobs.b"}, "mediajobs.b": set()}) == []
    assert not allowed("mediajobs.photos.kind", "mediajobs.exports.archive")  # kind -> kind
    assert not allowed("mediajobs.video.demo", "mediajobs.cli.client")  # -> cli
    assert not allowed("mediajobs.jobs.api", "mediajobs.scenes.api")  # engine -> kind
    assert not allowed("mediajobs.video.stream", "mediajobs.downloads")  # kind -> callable
    assert not allowed("mediajobs.names", "mediajobs.jobs.models")  # base -> engine
    assert allowed("mediajobs.scenes.api", "mediajobs.jobs.api")  # kind -> engine
    assert allowed("mediajobs.downloads", "mediajobs.video.stream")  # callable -> kind
    assert allowed("mediajobs.events", "mediajobs.cloud")  # base -> base
