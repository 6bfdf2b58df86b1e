"""Read the roles of many targets: shared clients, one sweep per account, accounts at once.

* **Clients.** One :class:`.AwsAdapter` (its IAM, STS and DynamoDB clients) per
  :class:`.Connection`, that is per (credentials, region, endpoint): targets read through
  the same credentials share it, and with it one ``sts:GetCallerIdentity`` and one read
  of each resource their requirements name (:mod:`.resources`). Clients are
  made under one lock (a boto3 session is not thread-safe; botocore's clients are).
* **Accounts.** An account with several targets is read with one
  ``GetAccountAuthorizationDetails`` sweep (:mod:`.account`); an account with one target
  role by role, which costs less than sweeping a large account. :meth:`RoleReader.mode`
  says which, and the run's header shows it.
* **Concurrency.** Accounts are read at once, up to ``concurrency``; within an account the
  sweep and its tables' reads at once (a few requests; not with a ``concurrency`` of 1),
  then its targets one after the other: IAM throttles per account, and the sweep is read
  once.
* **Denied sweeps.** A reader allowed the per-role reads but not
  ``iam:GetAccountAuthorizationDetails`` reads the account role by role instead.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress

from ..engine.evaluate.snapshot import RoleSnapshot
from ..engine.resources import ResourceNeeds
from ..engine.target import Target
from ..errors import AccessDeniedError, IamComplianceError
from .account import SWEEP, AccountReads, ReadMode, identity_key, read_mode, sweep
from .adapter import AwsAdapter
from .connection import Connection

#: Tables of one account read alongside its sweep, at most: IAM and DynamoDB throttle per
#: account, so an account is never sent more than a few requests at once.
TABLES_AT_ONCE = 3

#: A target whose requirements name nothing but its table.
NO_NEEDS = ResourceNeeds()

#: What reading one target gave: its role, or why it could not be read.
ReadResult = RoleSnapshot | IamComplianceError


class RoleReader:
    """Reads targets' roles for one run; :meth:`plan` first, with every target of the run."""

    def __init__(
        self,
        connection_of: Callable[[Target], Connection],
        *,
        concurrency: int = 8,
        adapter_of: Callable[[Connection], AwsAdapter] = AwsAdapter,
        keep_clients: bool = True,
        needs: Callable[[Target], ResourceNeeds] = lambda target: NO_NEEDS,
    ) -> None:
        self._connection_of = connection_of
        #: The resources each target's requirements name, and its declared endpoints.
        self._needs = needs
        #: False: :meth:`read_all` lets go of an account's clients once it is read.
        self.keep_clients = keep_clients
        self._adapter_of = adapter_of
        self.concurrency = concurrency
        self._targets_per_account: Counter[tuple[object, ...]] = Counter()
        self._connections: dict[str, Connection] = {}
        self._adapters: dict[Connection, AwsAdapter] = {}
        self._accounts: dict[tuple[object, ...], AccountReads] = {}
        #: Accounts whose sweep was denied, read role by role.
        self._denied: dict[tuple[object, ...], AccessDeniedError] = {}
        self._lock = threading.RLock()

    def plan(self, targets: Iterable[Target]) -> None:
        """Count the run's targets per account: it decides each account's read mode."""
        self._targets_per_account = Counter(identity_key(t) for t in targets)

    def mode(self, target: Target) -> ReadMode:
        key = identity_key(target)
        if key in self._denied:
            return "per-role"
        return read_mode(self._targets_per_account[key])

    def adapter(self, target: Target) -> AwsAdapter:
        """The adapter of the target's credentials, region and endpoint (shared)."""
        with self._lock:
            if target.name not in self._connections:
                self._connections[target.name] = self._connection_of(target)
            connection = self._connections[target.name]
            if connection not in self._adapters:
                self._adapters[connection] = self._adapter_of(connection)
            return self._adapters[connection]

    def snapshot(self, target: Target) -> RoleSnapshot:
        """Read the target's role, its policies, its table and the resources its
        requirements name; where, and as whom."""
        adapter = self.adapter(target)
        found = self._snapshot(target, adapter)
        # Each resource once per adapter (credentials), however many targets name it.
        resources, endpoints = adapter.read_resources(target, self._needs(target))
        # The caller was asked with the account check: no request of its own.
        return dataclasses.replace(
            found,
            endpoint_url=adapter.endpoint_url,
            caller_arn=adapter.caller_arn(),
            resources=resources,
            endpoints=endpoints,
        )

    def _snapshot(self, target: Target, adapter: AwsAdapter) -> RoleSnapshot:
        if self.mode(target) == "per-role":
            return adapter.fetch_role(target)
        account = adapter.check_account(target)
        reads = self._account_reads(target, adapter, account)
        try:
            reads.read_sweep()
        except AccessDeniedError as exc:
            # Least-privilege readers often hold the per-role reads only: read role by
            # role rather than fail; the header says so.
            with self._lock:
                self._denied[identity_key(target)] = exc
            return adapter.fetch_role(target)
        return reads.snapshot(target)

    def read_all(
        self, targets: Sequence[Target], on_read: Callable[[], None] = lambda: None
    ) -> dict[str, ReadResult]:
        """Read every target, whatever happens to the others, accounts at once;
        ``on_read()`` after each (the run's progress counts them)."""
        groups: dict[tuple[object, ...], list[Target]] = {}
        for target in targets:
            groups.setdefault(identity_key(target), []).append(target)
        if len(groups) < 2 or self.concurrency < 2:
            found = {
                n: o
                for group in groups.values()
                for n, o in self._read_group(group, on_read).items()
            }
            return {t.name: found[t.name] for t in targets}
        with ThreadPoolExecutor(min(self.concurrency, len(groups))) as pool:
            jobs = [pool.submit(self._read_group, group, on_read) for group in groups.values()]
            found = {name: result for job in jobs for name, result in job.result().items()}
        return {t.name: found[t.name] for t in targets}

    def forget(self, target: Target) -> None:
        """Drop what was read of the target's account, so the next read sees it anew."""
        with self._lock:
            self._accounts.pop(identity_key(target), None)

    def release(self) -> None:
        """Let go of every client and everything read (made again if needed later)."""
        with self._lock:
            self._connections.clear()
            self._adapters.clear()
            self._accounts.clear()

    def describe(self, targets: Sequence[Target]) -> list[str]:
        """How each account of ``targets`` is read, for the run's header."""
        lines = []
        for key, count in Counter(identity_key(t) for t in targets).items():
            account = str(key[0])
            if key in self._denied:
                how = f"role by role ({SWEEP} was denied: {self._denied[key]})"
            elif read_mode(self._targets_per_account[key]) == "account":
                reads = self._accounts.get(key)
                pages = ""
                if reads is not None:
                    with suppress(IamComplianceError):
                        pages = f", {reads.read_sweep().pages} page(s)"
                how = f"one {SWEEP} sweep{pages}"
            else:
                how = "role by role"
            lines.append(f"account {account}: {count} target(s), read {how}")
        return lines

    # -- inside ------------------------------------------------------------------------

    def _read_group(
        self, group: Sequence[Target], on_read: Callable[[], None]
    ) -> dict[str, ReadResult]:
        if self.mode(group[0]) == "account" and self.concurrency > 1:
            self._prefetch(group)
        results = {}
        for target in group:
            results[target.name] = self._read(target)
            on_read()
        if not self.keep_clients:  # a thousand accounts' clients would not fit at once
            with self._lock:
                for target in group:
                    connection = self._connections.pop(target.name, None)
                    if connection is not None:
                        self._adapters.pop(connection, None)
        return results

    def _prefetch(self, group: Sequence[Target]) -> None:
        """Read the account's sweep and its tables at once: they do not depend on each
        other, and each is read once whatever the number of targets. What fails here is
        kept and reported with each target by :meth:`snapshot`."""
        try:
            adapter = self.adapter(group[0])
            reads = self._account_reads(group[0], adapter, adapter.check_account(group[0]))
        except IamComplianceError:
            return
        tables = sorted({t.table_arn for t in group})[:TABLES_AT_ONCE]
        with ThreadPoolExecutor(1 + len(tables)) as pool:
            jobs: list[Future[object]] = [pool.submit(reads.read_sweep)]
            jobs.extend(pool.submit(reads.table_state, arn) for arn in tables)
        for job in jobs:
            job.exception()  # kept by ``reads``, raised again for each target

    def _read(self, target: Target) -> ReadResult:
        try:
            return self.snapshot(target)
        except IamComplianceError as exc:
            return exc

    def _account_reads(self, target: Target, adapter: AwsAdapter, account: str) -> AccountReads:
        key = identity_key(target)
        with self._lock:
            if key not in self._accounts:
                self._accounts[key] = AccountReads(
                    account,
                    lambda: sweep(adapter.iam, account),
                    adapter.managed_policy,
                    adapter.fetch_table,
                )
            return self._accounts[key]
