"""What no linter checks: a pure engine, importable self-test modules, HTML only from the
templates. ruff, mypy --strict, import-linter and vulture are ``.ci/lint``'s steps."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

from conftest import ROOT


def test_the_engine_imports_no_aws_sdk_pytest_or_dotenv() -> None:
    """The pure core is importable, and usable, without the heavy or framework modules."""
    code = (
        "import sys, iam_compliance.engine.evaluate.assessment, iam_compliance.engine.fix.rollout, "
        "iam_compliance.engine.requirements, iam_compliance.engine.evaluate.privilege; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'boto3', 'botocore', 'moto', 'pytest', '_pytest', 'dotenv', 'jinja2'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_self_test_modules_have_unique_names() -> None:
    """The self-tests are imported by basename (rootdir-relative "prepend" mode): two
    ``test_x.py`` in different folders would stop collection with an import mismatch."""
    names: dict[str, list[str]] = {}
    for path in sorted((ROOT / "testing").rglob("test_*.py")):
        names.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}


#: An HTML tag, opening or closing.
_TAG = re.compile(
    r"</?(html|head|body|title|meta|h[1-6]|p|div|span|pre|code|table|thead|tbody|tr|td|th|ul"
    r"|ol|li|a|details|summary|style|script|br)\b[^<>]*>",
    re.IGNORECASE,
)


def _string_constants(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string constant of a module, f-strings' literal parts included, docstrings not."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_html_comes_only_from_the_templates() -> None:
    """Every piece of HTML is rendered from report/templates/ (Jinja2, autoescape): none is
    built in Python, where a value could go in unescaped."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        for line, text in _string_constants(ast.parse(path.read_text(), str(path)))
        if _TAG.search(text)
    ]
    assert found == []
