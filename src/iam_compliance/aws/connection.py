"""How to reach an account: boto3 sessions, and one set of clients per connection.

Sessions are shared (one per AWS profile, all with one botocore data loader); credentials,
region and endpoint go to each client. A :class:`Connection` makes each of its clients
once: making one costs milliseconds of CPU (its event handlers and service model), which
would dominate a run over many targets.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import NoRegionError, ProfileNotFound
from botocore.loaders import create_loader

from ..engine.target import Credentials, Target
from ..errors import ConfigurationError
from .translate import MAX_ATTEMPTS

#: Retries with botocore's own "standard" mode (throttling and 5xx, exponential backoff),
#: and timeouts, so a run neither gives up on the first Throttling nor hangs.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=5,
    read_timeout=20,
)
#: IAM's writes are not idempotent: a CreatePolicyVersion whose answer is lost may have
#: been applied, and botocore resending it would make a second version. Writes are sent
#: once (botocore retries nothing) and only a Throttling answer, which says the request
#: was refused, is sent again; after any other failure the fix reads back what IAM holds
#: (see iam_compliance.engine.fix.readback).
WRITE_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=5,
    read_timeout=20,
)


@dataclass(frozen=True)
class Connection:
    """How to reach one target's account: a session, and what overrides it per client.

    Sessions are shared (one per AWS profile) and credentials go to each client: making
    a botocore session and reading its service models costs tens of milliseconds, which
    would dominate a run over many targets.
    """

    session: boto3.Session
    region: str
    #: Credentials of this target alone (an env file's, or moto's); None: the session's.
    credentials: Credentials | None = None
    endpoint_url: str | None = None
    #: HTTP headers sent with every request (the embedded account names its moto account
    #: with ``x-moto-account-id``).
    headers: tuple[tuple[str, str], ...] = ()
    #: The clients made so far, one per service and config: each costs tens of ms.
    _clients: dict[tuple[str, int], Any] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def client(self, service: str, config: Config = CLIENT_CONFIG) -> Any:
        """The connection's client of ``service`` (made once: botocore's clients are
        thread-safe, but making one is not: callers make them from one thread)."""
        key = (service, id(config))
        if key not in self._clients:
            client = self._make_client(service, config)
            if self.headers:
                client.meta.events.register("before-sign", self._add_headers)
            self._clients[key] = client
        return self._clients[key]

    def _add_headers(self, request: Any, **_: Any) -> None:
        for name, value in self.headers:
            request.headers[name] = value

    def _make_client(self, service: str, config: Config) -> Any:
        kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        if self.credentials is not None:
            kwargs.update(
                aws_access_key_id=self.credentials.access_key_id,
                aws_secret_access_key=self.credentials.secret_access_key,
                aws_session_token=self.credentials.session_token,
            )
        # boto3-stubs types client() per service name; this one serves several.
        make_client: Any = self.session.client
        try:
            return make_client(service, **kwargs)
        except NoRegionError:
            raise ConfigurationError(
                "AWS_REGION is not set and no default region is configured"
            ) from None
        except ProfileNotFound as exc:
            raise ConfigurationError(
                f"AWS_PROFILE {exc.kwargs.get('profile')!r} is not in the AWS config or "
                "credentials file (aws configure list-profiles shows the ones there)"
            ) from None
        except ValueError as exc:  # botocore's own check of AWS_ENDPOINT_URL
            raise ConfigurationError(f"AWS_ENDPOINT_URL: {exc}") from None


class Sessions:
    """One boto3 session per AWS profile, all sharing one botocore data loader."""

    def __init__(self) -> None:
        self._loader = create_loader()
        self._by_profile: dict[str | None, boto3.Session] = {}
        self._requests = 0
        self._lock = threading.Lock()

    def core(self, **session_vars: tuple[Any, ...]) -> botocore.session.Session:
        core = botocore.session.Session(session_vars=session_vars or None)
        core.register_component("data_loader", self._loader)
        # Every client of the session inherits it: each HTTP request, retries included.
        core.register("before-send", self._count_request)
        return core

    def requests(self) -> int:
        """Requests sent so far through the clients of these sessions (the progress shows it)."""
        return self._requests

    def _count_request(self, **_: Any) -> None:
        with self._lock:
            self._requests += 1

    def live(self, target: Target) -> Connection:
        """The env file's credentials or profile, else boto3's default chain."""
        profile = None if target.credentials is not None else target.profile
        if profile not in self._by_profile:
            try:
                self._by_profile[profile] = boto3.Session(
                    profile_name=profile, botocore_session=self.core()
                )
            except ProfileNotFound:
                raise ConfigurationError(
                    f"{target.source or 'environment'}: AWS_PROFILE {profile!r} is not in "
                    "the AWS config or credentials file"
                ) from None
        return Connection(
            self._by_profile[profile], target.region, target.credentials, target.endpoint_url
        )
