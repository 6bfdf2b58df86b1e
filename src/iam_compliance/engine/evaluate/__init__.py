"""The evaluation wing: decide requests as IAM does, and assess a target.

The request (:mod:`.request`, :mod:`.session`, :mod:`.variables`), whom a Principal names
(:mod:`.principals`), conditions (:mod:`.operators`, :mod:`.conditions`), which
statements apply (:mod:`.applicability`), the organization's guardrails
(:mod:`.guardrails`), the decision and its reason (:mod:`.decision`), one evaluator
(:mod:`.evaluation`); then the checks built on it: trust (:mod:`.trust`), least privilege
(:mod:`.privilege`), every verdict about a target (:mod:`.assessment`), values a source
file leaves open (:mod:`.unknowns`), and IAM's policy simulator as a second opinion
(:mod:`.crosscheck`). Nothing here imports the fix wing.
"""
