"""The pure core: IAM policies in, verdicts and fix plans out.

Nothing here talks to AWS or knows about pytest: it imports the standard library and
:mod:`iam_compliance.errors` only, and import-linter holds it to that (pyproject.toml).

``policy`` (parse documents), ``matching`` (wildcards), ``conditions`` (Condition
blocks), ``evaluation`` (IAM's decision for one request), ``privilege`` (grants wider
than needed), ``assessment`` (every verdict about a role), ``remediation`` (plan a fix),
``rollout`` (apply it through an injected store), ``requirements`` (what the workload
needs) and ``target`` (what one check is about).
"""
