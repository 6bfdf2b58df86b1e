"""Which probes of a fix's proof a change can reach: the others keep their verdicts.

A statement takes part in a verdict only when it covers the action and its Resource does
not certainly miss the resource (:func:`iam_compliance.engine.evaluate.applicability.scan`).
A request that implies a KMS key use (DynamoDB's and S3's data actions on a customer
managed key, :data:`iam_compliance.engine.evaluate.keys.KEY_USE`) is decided by the
statements that cover that use too, on the key rather than on the probe's resource. So a
probe that no added or removed statement reaches, neither directly nor through its key
use, has the same applying statements, and the same verdict, before and after.

Two more changes reach nothing: a statement whose Action list alone changed (a fix that
adds actions to a statement) applies to a request of an action it covers before and
after exactly as it did (:func:`_twins`); and a statement's position in its policy takes
no part in a verdict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from ..evaluate.keys import key_uses
from ..matching import has_wildcard, is_pattern, may_match_resource
from ..policy import RolePolicies, Statement

#: The changes of one proof: (removed, added) statements of each policy that changed.
Changes = tuple[tuple[tuple[Statement, ...], tuple[Statement, ...]], ...]


class ProbeSet(tuple[tuple[str, str], ...]):
    """The (action, resource) pairs of a proof, each once, with :attr:`runs`: the pairs
    of each action in turn (as :func:`.proof.probes` lists them), worked out once for
    the targets that share a probe set."""

    runs: tuple[tuple[str, tuple[str, ...]], ...]
    pairs: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> ProbeSet:
        made = cls(dict.fromkeys(pairs))
        runs: list[tuple[str, list[str]]] = []
        for action, resource in made:
            if runs and runs[-1][0] == action:
                runs[-1][1].append(resource)
            else:
                runs.append((action, [resource]))
        made.runs = tuple((action, tuple(resources)) for action, resources in runs)
        made.pairs = frozenset(made)
        return made


def runs(
    probes: Iterable[tuple[str, str]], more: Iterable[tuple[str, str]]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The runs of each action's resources in ``probes`` then ``more``, each pair once."""
    if not isinstance(probes, ProbeSet):
        probes = ProbeSet.of(probes)
    extra = [pair for pair in dict.fromkeys(more) if pair not in probes.pairs]
    return probes.runs + ProbeSet.of(extra).runs if extra else probes.runs


class Reach:
    """What the change from ``before`` to ``after`` can reach: everything, when more than
    identity statements changed (another policy, the boundary, a document's Version,
    which decides whether ``${...}`` is a variable)."""

    def __init__(self, before: RolePolicies, after: RolePolicies) -> None:
        changes = changed_statements(before, after)
        self.everything = changes is None
        found = [s for removed, added in changes or () for s in (*removed, *added)]
        self._changed = [(s, _services_named(s)) for s in found]
        self._twins = [pair for removed, added in changes or () for pair in _twins(removed, added)]
        # action -> what reaches it: the same for every target whose fix changes the same
        # statements (a pure function of their text and the action).
        self._by_action = _reaching(changes or ())

    def reached(self, action: str, resources: Sequence[str]) -> Sequence[str]:
        """Those of ``resources`` whose request of ``action`` the change may reach."""
        if self.everything:
            return resources
        found = self._by_action.get(action)
        if found is None:
            found = self._by_action[action] = self._reaching(action)
        statements, through_key = found
        if through_key:  # its key use is decided on the key, whatever the resource
            return resources
        if not statements:
            return ()
        return [r for r in resources if any(_may_match(s, r) for s in statements)]

    def _reaching(self, action: str) -> tuple[list[Statement], bool]:
        """The changed statements covering ``action``, and whether one covers a key use
        it implies."""
        through_key = any(self._covering(use.action) for use in key_uses(action))
        return self._covering(action), through_key

    def _covering(self, action: str) -> list[Statement]:
        """The changed statements that cover ``action``, but not twins that both do."""
        covering = [s for s, named in self._changed if _covers(s, named, action)]
        for old, new in self._twins:
            if any(s is old for s in covering) and any(s is new for s in covering):
                covering = [s for s in covering if s is not old and s is not new]
        return covering


def changed_statements(before: RolePolicies, after: RolePolicies) -> Changes | None:
    """The statements only one side has (their position aside), as (removed, added) for
    each policy that changed, or None when the two differ in anything else (another
    policy, the boundary, a document's Version, which decides whether ``${...}`` is a
    variable): then every probe is evaluated."""
    if before.boundary != after.boundary or len(before.identity) != len(after.identity):
        return None
    changed: list[tuple[tuple[Statement, ...], tuple[Statement, ...]]] = []
    for old, new in zip(before.identity, after.identity, strict=True):
        if (old.name, old.kind, old.arn, old.has_variables) != (
            new.name,
            new.kind,
            new.arn,
            new.has_variables,
        ):
            return None
        if old.statements == new.statements:
            continue
        olds = [dataclasses.replace(s, index=0) for s in old.statements]
        news = [dataclasses.replace(s, index=0) for s in new.statements]
        removed = tuple(s for s in olds if s not in news)
        changed.append((removed, tuple(s for s in news if s not in olds)))
    return tuple(changed)


def _twins(
    removed: Sequence[Statement], added: Sequence[Statement]
) -> list[tuple[Statement, Statement]]:
    """The removed and added statements of one policy that differ in their Action list
    alone, each paired with its only such counterpart: what a fix that adds actions to a
    statement changes. For an action both cover, one applies to a request exactly when
    the other does (effect, resources, conditions and principal are the same), so the
    pair changes no verdict of it."""
    pairs = []
    for old in removed:
        found = [new for new in added if _same_but_actions(old, new)]
        if len(found) == 1 and sum(_same_but_actions(o, found[0]) for o in removed) == 1:
            pairs.append((old, found[0]))
    return pairs


def _same_but_actions(old: Statement, new: Statement) -> bool:
    return (
        old.actions is not None
        and new.actions is not None
        and dataclasses.replace(old, actions=()) == dataclasses.replace(new, actions=())
    )


#: What reaches each action, for each set of changes: ``_reaching(changes)``.
_REACHING: dict[Changes, dict[str, tuple[list[Statement], bool]]] = {}


def _reaching(changed: Changes) -> dict[str, tuple[list[Statement], bool]]:
    """The cache of what of ``changed`` reaches each action, shared by every proof with
    equal changes (a fresh one when a statement cannot be hashed: a raw Principal)."""
    if len(_REACHING) >= 256:  # a run of many different policies: start again
        _REACHING.clear()
    try:
        return _REACHING.setdefault(changed, {})
    except TypeError:
        return {}


def _covers(statement: Statement, services: frozenset[str] | None, action: str) -> bool:
    """``statement.covers_action``, without matching the patterns of another service (most
    probes are other services' actions); ``services``: :func:`_services_named`."""
    if services is not None and action.partition(":")[0].lower() not in services:
        return False
    return statement.covers_action(action)


def _services_named(statement: Statement) -> frozenset[str] | None:
    """The services an Action names when each pattern spells its service out
    (``dynamodb:Get*``); None for NotAction, ``*`` or a wildcard in a service."""
    found = set()
    for pattern in statement.actions or ("*",):
        service, colon, _ = pattern.partition(":")
        if not colon or has_wildcard(service) or "$" in service:
            return None
        found.add(service.lower())
    return frozenset(found)


def _may_match(statement: Statement, resource: str) -> bool:
    """Whether the statement's Resource may match ``resource`` (a variable, a NotResource
    or a pattern of resources: assume it may)."""
    if statement.resources is None or is_pattern(resource):
        return True
    return any("${" in p or may_match_resource(p, resource) for p in statement.resources)
