"""The package layout holds: no import cycle between modules or between stage packages, and the
stages never import a face (serve, eval, bench) — faces import stages, not the reverse."""
import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

QA = Path(__file__).resolve().parent.parent / "qa"
FACES = {"serve", "eval", "bench"}


def _module(path: Path) -> str:
    parts = path.relative_to(QA.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """Every import of a qa module, at any depth of the file (a lazy import is still a dependency)."""
    modules = {_module(p) for p in QA.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in QA.rglob("*.py"):
        deps = graph.setdefault(_module(path), set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "qa":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    deps.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.split(".")[0] == "qa")
    for mod, deps in graph.items():
        deps.discard(mod)
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else module


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        return exc.args[1]
    return None


def test_no_module_imports_itself_back_through_others():
    assert _cycle(_graph()) is None


def test_stage_packages_depend_on_each_other_one_way():
    packages: dict[str, set[str]] = {}
    for mod, deps in _graph().items():
        packages.setdefault(_package(mod), set()).update(_package(d) for d in deps if _package(d) != _package(mod))
    assert _cycle(packages) is None


def test_stages_never_import_a_face():
    offenders = sorted(f"{mod} → {dep}" for mod, deps in _graph().items() if _package(mod) not in FACES | {"qa.__main__"}
                       for dep in deps if _package(dep) in FACES)
    assert offenders == []


def test_the_graph_sees_the_pipeline():
    # Guards the walk itself: a known chain of imports must be found, or the tests above prove nothing.
    graph = _graph()
    assert "qa.retrieval.index" in graph["qa.retrieval.engine"]
    assert "qa.verify.cite" in graph["qa.answering.answer"]
    assert "qa.serve.cli" in graph["qa.__main__"]
