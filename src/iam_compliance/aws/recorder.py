"""See every AWS API call botocore makes in this process, whatever session or client made it.

A handler on boto3's documented ``provide-client-params`` event
(https://docs.aws.amazon.com/boto3/latest/guide/events.html) receives each call's
operation model and parameters, as the caller gave them, before the request is built; the
request context carries the client's region. Applications make their own sessions and
clients, so the handler is not registered on one: it joins
``botocore.handlers.BUILTIN_HANDLERS``, the list every botocore session registers when it
is created (moto's ``mock_aws`` reaches every client the same way), and boto3's default
session if it already exists. Calls of clients made before :meth:`CallTap.install` from
other sessions are not seen.

The handler runs in whatever thread makes the call (s3transfer uploads parts from a pool)
and returns nothing, so the call itself is never changed.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import Any

from botocore import handlers
from botocore.exceptions import BotoCoreError
from botocore.loaders import Loader

from ..recording.model import ApiCall

#: The event every client emits with a call's parameters, once per call.
EVENT = "provide-client-params"


class CallTap:
    """Hands every API call to ``sink`` while installed."""

    def __init__(self, sink: Callable[[ApiCall], None]) -> None:
        self._sink = sink
        self._active = False
        self._spec = (EVENT, self._on_call)
        self._default_session: Any = None

    def install(self) -> None:
        self._active = True
        handlers.BUILTIN_HANDLERS.append(self._spec)
        boto3 = sys.modules.get("boto3")
        session = getattr(boto3, "DEFAULT_SESSION", None) if boto3 is not None else None
        if session is not None:
            session.events.register(EVENT, self._on_call)
            self._default_session = session

    def uninstall(self) -> None:
        """Stop: sessions made meanwhile keep the handler, which now does nothing."""
        self._active = False
        if self._spec in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.remove(self._spec)
        if self._default_session is not None:
            self._default_session.events.unregister(EVENT, self._on_call)
            self._default_session = None

    def _on_call(self, params: Any, model: Any, context: Any = None, **_: Any) -> None:
        if not self._active:
            return
        service = model.service_model
        region = str((context or {}).get("client_region") or "")
        self._sink(
            ApiCall(
                service=service.service_name,
                operation=model.name,
                params=params if isinstance(params, dict) else {},
                region=region,
                partition=partition_of(region),
                prefix=service.signing_name or service.endpoint_prefix,
            )
        )


@functools.cache
def partition_of(region: str) -> str:
    """The partition of ``region`` (``aws``, ``aws-cn``...), as botocore's own partitions
    data says: a region it lists, else the partition whose region pattern matches."""
    try:
        partitions = _partitions()
    except (BotoCoreError, OSError, ValueError, KeyError):
        return "aws"
    for partition in partitions:
        if region in partition.get("regions", {}):
            return str(partition["id"])
    for partition in partitions:
        if re.match(partition.get("regionRegex", "$^"), region):
            return str(partition["id"])
    return "aws"


@functools.cache
def _partitions() -> list[dict[str, Any]]:
    # partitions.json is small; the endpoint data a Session would load is not.
    data = Loader().load_data("partitions")
    return list(data["partitions"])
