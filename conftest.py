"""Root conftest of the compliance suite.

The iam-compliance plugin itself is registered through its pytest11 entry point (see
pyproject.toml), never here: pluggy refuses a plugin registered twice. This file only
keeps a bare `pytest` at the project root to the compliance suite.
"""

collect_ignore = ["testing", "benchmarks", "src"]
