"""Which AWS services and operations exist, for checking the required actions' names."""

from __future__ import annotations

import botocore.session


class BotocoreCatalog:
    """Service and operation names from botocore's bundled models (no network)."""

    def __init__(self) -> None:
        self._session = botocore.session.get_session()

    def services(self) -> frozenset[str]:
        return frozenset(self._session.get_available_services())

    def operations(self, service: str) -> frozenset[str] | None:
        if service not in self.services():
            return None
        return frozenset(self._session.get_service_model(service).operation_names)
