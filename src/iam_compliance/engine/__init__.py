"""The pure core: IAM policies in, verdicts and fix plans out.

Nothing here talks to AWS or knows about pytest: it imports the standard library and
:mod:`iam_compliance.errors` only, and import-linter holds it to that (pyproject.toml).

Two wings, and what both stand on:

* :mod:`.evaluate`: decide requests as IAM does (one evaluator for identity, boundary,
  resource, guardrail and trust policies), and assess a target: every verdict, check
  result and finding;
* :mod:`.fix`: plan the smallest fix, prove it grants exactly what is required, apply it
  through an injected store. The fix wing builds on the evaluation wing, never the other
  way round (an import-linter contract);
* at the top, what belongs to neither: the policy language (:mod:`.policy`, with
  :mod:`.decoding` for a document's JSON text, :mod:`.matching` and :mod:`.wildcards`
  for its patterns), what the workload needs (:mod:`.requirements`), what one check is
  about (:mod:`.target`) and the tags that say a role is deployed from code
  (:mod:`.drift`).
"""
