"""The house plan of the repository (DESIGN.md, "Shape of the repository"), checked over the tree:
short library modules, imports only from the same or a lower layer, public ``__init__`` files
that list their modules, and thin workflow scripts."""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

from neuralign.io.jobs import job_arguments
from tests.io.test_jobs import job

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "workflow" / "neuralign"
SCRIPTS = ROOT / "workflow" / "scripts"
MAX_MODULE_LINES = 400
MAX_SCRIPT_LINES = 40
# a module imports only from its own stage or a lower one; stages of one layer (datasets and
# models) do not import each other. The package root (``neuralign``: its version) is below all;
# config.py and gated.py sit at the top.
LAYERS = {
    "": 0,
    "io": 1,
    "datasets": 2,
    "models": 2,
    "activations": 3,
    "fitting": 4,
    "analyses": 5,
    "reporting": 6,
    "config": 7,
    "gated": 7,
}
MODULES = sorted(path for path in LIBRARY.rglob("*.py"))
PACKAGES = sorted(path.parent for path in LIBRARY.rglob("__init__.py") if path.parent != LIBRARY)
SCRIPT_FILES = sorted(SCRIPTS.glob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _stage(module: str) -> str:
    """The stage of a dotted module name under ``neuralign`` ('' for the package root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``neuralign`` import of ``path``, function-local ones included;
    ``from neuralign import x`` counts as importing ``neuralign.x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "neuralign":
                found += [(node.lineno, f"neuralign.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "neuralign"]


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_library_modules_are_short(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_name(path)} has {lines} lines; split it by concern"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_modules_import_only_from_their_own_or_a_lower_layer(path):
    parts = path.relative_to(LIBRARY.parent).with_suffix("").parts
    own = _stage(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    upward = [
        f"line {line}: {module}"
        for line, module in _imported(path)
        if (stage := _stage(module)) != own and LAYERS[stage] >= LAYERS[own]
    ]
    assert not upward, f"{_name(path)} (stage {own!r}) imports from its layer or above: {upward}"


@pytest.mark.parametrize("package", PACKAGES, ids=_name)
def test_package_init_lists_its_modules_and_only_names_it_has(package):
    tree = ast.parse((package / "__init__.py").read_text())
    listed = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets)
    ]
    assert listed, f"{_name(package)}/__init__.py has no __all__"
    modules = {path.stem for path in package.glob("*.py") if path.stem != "__init__"}
    modules |= {path.parent.name for path in package.glob("*/__init__.py")}
    missing = sorted(modules - set(listed[0]))
    assert not missing, f"{_name(package)}/__init__.py: __all__ lacks the modules {missing}"
    package_name = ".".join(package.relative_to(LIBRARY.parent).parts)
    imported = importlib.import_module(package_name)
    absent = [name for name in listed[0] if name not in modules and not hasattr(imported, name)]
    assert not absent, f"{package_name}.__all__ names {absent}, which it does not define"


@pytest.mark.parametrize("path", SCRIPT_FILES, ids=_name)
def test_scripts_are_thin(path):
    """A script reads ``snakemake`` and calls one library function: no functions or classes of
    its own, at most about 40 lines."""
    text = path.read_text()
    defined = [
        node.name
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    assert not defined, f"{_name(path)} defines {defined}; move them into the library"
    lines = len(text.splitlines())
    assert lines <= MAX_SCRIPT_LINES, f"{_name(path)} has {lines} lines"


RULE = re.compile(r"^(?:local)?rule (\w+):\n((?:[ \t]+.*\n|\n)*)", re.MULTILINE)
RULES = sorted(
    (path.name, match.group(1), match.group(2))
    for path in (ROOT / "workflow" / "rules").glob("*.smk")
    for match in RULE.finditer(path.read_text())
    if any(f"    {key}:" in match.group(2) for key in ("script", "shell", "run"))
)


@pytest.mark.parametrize(("smk", "rule", "body"), RULES, ids=[rule for _, rule, _ in RULES])
def test_every_computing_rule_declares_log_benchmark_threads_and_resources(smk, rule, body):
    missing = [
        key for key in ("log", "benchmark", "threads", "resources") if f"    {key}:" not in body
    ]
    assert not missing, f"workflow/rules/{smk}: rule {rule} declares no {missing}"


SCRIPT_RULES = [
    (match.group(2), match.group(3), match.group(1))
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk"))
    for match in re.finditer(r"^( *)rule (\w+):\n((?:\1[ \t]+.*\n|\n)*)", path.read_text(), re.M)
    if "    script:" in match.group(3)
]


def _keywords(body: str, indent: str, section: str) -> dict[str, str]:
    """The named entries of one section of a rule (name -> its text up to the next one)."""
    found = re.search(rf"^{indent}    {section}:\n((?:{indent}        .*\n|\n)*)", body, re.M)
    parts = re.split(rf"^{indent}        (\w+)=", found.group(1) if found else "", flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize(("rule", "body", "indent"), SCRIPT_RULES, ids=[r[0] for r in SCRIPT_RULES])
def test_every_script_gets_its_job_arguments_from_its_rule(rule, body, indent, tmp_path):
    """The script's job function needs only names its rule gives (``neuralign.io.jobs``)."""
    script = SCRIPTS / re.search(r'script:\n\s+"\.\./scripts/(\w+\.py)"', body).group(1)
    tree = ast.parse(script.read_text())
    imported = {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    call = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "run"
    )

    def resolve(node):
        if isinstance(node, ast.Name) and node.id in imported:
            return getattr(importlib.import_module(imported[node.id]), node.id)
        return None  # a constant, or an expression of the job

    function = resolve(call.args[1])
    given = {kw.arg: resolve(kw.value) for kw in call.keywords if kw.arg != "ids"}
    outputs = _keywords(body, indent, "output")
    wildcards = set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", "".join(outputs.values())))
    snakemake = job(
        tmp_path,
        inputs=dict.fromkeys(_keywords(body, indent, "input"), "input"),
        outputs=dict.fromkeys(outputs, "output"),
        params=dict.fromkeys(_keywords(body, indent, "params")),
        wildcards=dict.fromkeys(wildcards, "wildcard"),
    )
    arguments = job_arguments(snakemake, function, given)  # JobError: what the rule lacks
    if "**" in str(inspect.signature(function)):  # hands the job on: all but the data it reads
        for handed_on in filter(callable, given.values()):
            needed = list(inspect.signature(handed_on).parameters.values())[1:]
            lacking = [p.name for p in needed if p.default is p.empty and p.name not in arguments]
            assert not lacking, f"rule {rule} gives {handed_on.__name__} none of {lacking}"
