"""The fix wing: plan the smallest fix, prove it, apply it.

:func:`.proposal.plan_and_prove` is the one way a fix is planned (:mod:`.planning`, the
edits of :mod:`.documents`) and proved (:mod:`.proof`). :mod:`.rollout` applies a plan
through an injected store, one write at a time (:mod:`.steps`), reading back after a failed
write (:mod:`.readback`). It builds on the evaluation wing (:mod:`..evaluate`) to judge
what a document would allow.
"""
