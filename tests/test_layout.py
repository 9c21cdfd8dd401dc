"""The package's layout rules: imports run one way (no module imports one
that imports it back), the method (``distilpose.models``) never imports
the runtime layer (``distilpose.runtime``), and no module outgrows a
reading (500 lines).

The import graph is read from the source (``ast``), not by importing, so
an import inside a function counts as much as one at the top.
"""
import ast
import os
import os.path as osp

from conftest import ROOT

PACKAGE = osp.join(ROOT, 'projects', 'distilpose')
MAX_LINES = 500


def module_files() -> dict:
    """``{module name: file}`` of every module of the package."""
    modules = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            rel = osp.relpath(osp.join(folder, name), osp.dirname(PACKAGE))
            parts = rel[:-3].split(os.sep)
            if parts[-1] == '__init__':
                parts = parts[:-1]
            modules['.'.join(parts)] = osp.join(folder, name)
    return modules


def imports_of(module: str, path: str, known: set) -> set:
    """The package's modules that ``module`` imports."""
    is_package = path.endswith('__init__.py')
    base = module.split('.') if is_package else module.split('.')[:-1]
    found = set()
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[:len(base) - node.level + 1]
                stem = '.'.join(anchor + ([node.module] if node.module
                                          else []))
            else:
                stem = node.module or ''
            # ``from pkg import sub`` imports the submodule pkg.sub
            targets = [f'{stem}.{alias.name}' for alias in node.names]
            targets = [t if t in known else stem for t in targets]
        else:
            continue
        found.update(t for t in targets if t in known and t != module)
    return found


def import_graph() -> dict:
    files = module_files()
    known = set(files)
    return {m: imports_of(m, p, known) for m, p in files.items()}


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one module
    (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
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


def test_the_graph_sees_the_package():
    graph = import_graph()
    assert 'distilpose.models.distillers.distilpose_distiller' in graph
    assert 'distilpose.runtime.hooks' in graph
    # A relative import of a sibling module, and of a submodule by name
    assert 'distilpose.checkpoint' in graph['distilpose.convert']
    assert ('distilpose.runtime.cpu_distributed'
            in graph['distilpose.runtime.mmengine_patches'])


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_cycles_are_found():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}) == [
        ['a', 'b', 'c']
    ]


def test_the_method_never_imports_the_runtime_layer():
    graph = import_graph()
    wrong = {(m, t)
             for m, targets in graph.items()
             if m.startswith('distilpose.models')
             for t in targets if t.startswith('distilpose.runtime')}
    assert not wrong, sorted(wrong)


def test_no_module_over_500_lines():
    long = {}
    for module, path in module_files().items():
        with open(path) as f:
            lines = sum(1 for _ in f)
        if lines > MAX_LINES:
            long[module] = lines
    assert not long, long
