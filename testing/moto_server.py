"""A moto server on 127.0.0.1 in a process of its own, with a counting, fault-injecting layer.

Run as ``python moto_server.py``: prints the port, serves until stdin closes.

It runs apart from the self-tests because moto's in-process mock (mock mode) resets the
same backends an in-process server would use. In front of moto sits a small WSGI layer
that the self-tests drive over HTTP:

- ``GET /_selftest/requests`` lists the actions received (``iam:GetRole``, ...; S3's by
  operation, ``s3:GetBucketPolicy``); ``DELETE`` empties the list, and the next one's.
- ``GET /_selftest/requests/accounts`` lists the same requests as ``[account, action]``
  pairs: the account is the one moto answers for (``x-moto-account-id``, else the
  account of the request's access key).
- ``POST /_selftest/auth`` turns moto's IAM access control on, ``DELETE`` off.
- ``POST /_selftest/faults`` with ``[{"action": "iam:GetRole", "fault": "Throttling",
  "times": 2}]`` answers that action with the fault the first ``times`` times (``null``:
  always), after letting the first ``skip`` (default 0) through. Faults:
  ``Throttling``, ``InternalError`` (500), ``AccessDenied``, ``drop`` (close the
  connection without answering), ``lost`` (let moto apply the request, then close the
  connection: the write happened but its answer never arrives). ``DELETE`` removes every
  fault.
- ``POST /_selftest/latency`` with ``{"seconds": 0.05}`` delays every AWS request by that
  long before answering, as a round trip to a real endpoint would; ``DELETE``: no delay.
  Either answers, and resets, the most requests that were being answered at once.
- S3's ``ExpectedBucketOwner`` is enforced (403 when the bucket is another account's),
  which moto itself ignores.
"""

from __future__ import annotations

import io
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto import settings
from moto.core.responses import ActionAuthenticatorMixin
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import S3IAMRequest
from moto.iam.models import get_account_id_from
from moto.iam.responses import IamResponse
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

StartResponse = Callable[..., Any]
FAULTS: dict[str, tuple[str, int, str]] = {
    "Throttling": ("400 Bad Request", 400, "Rate exceeded"),
    "InternalError": ("500 Internal Server Error", 500, "We encountered an internal error"),
    "AccessDenied": ("403 Forbidden", 403, "User is not authorized to perform this action"),
}


#: The JSON protocol's error codes (DynamoDB) for the same faults.
JSON_FAULT_CODES = {
    "Throttling": "ThrottlingException",
    "InternalError": "InternalServerError",
    "AccessDenied": "AccessDeniedException",
}


#: S3's operations by method and sub-resource (``GET /bucket?policy``: GetBucketPolicy).
S3_OPERATIONS = {
    "GET": {
        "policy": "GetBucketPolicy",
        "encryption": "GetBucketEncryption",
        "location": "GetBucketLocation",
    },
    "PUT": {"policy": "PutBucketPolicy", "encryption": "PutBucketEncryption"},
}


class SelfTestLayer:
    """Counts IAM/STS actions and injects faults before requests reach moto."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.requests: list[str] = []
        #: (account, action) of each request, in the same order.
        self.accounts: list[tuple[str, str]] = []
        self.faults: list[dict[str, Any]] = []
        self.latency = 0.0
        self.in_flight = 0
        self.most_in_flight = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_selftest/"):
            return self.control(path, environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = self.action_of(environ, body)
        account = self.account_of(environ)
        with self.lock:
            self.requests.append(action)
            self.accounts.append((account, action))
            fault = self.take_fault(action) or self.owner_mismatch(environ, action)
            latency = self.latency
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if latency:
                time.sleep(latency)
        finally:
            with self.lock:
                self.in_flight -= 1
        if fault == "lost":
            # moto applies the request; its answer is thrown away with the connection.
            b"".join(self.app(environ, lambda *args, **kwargs: None))
            fault = "drop"
        if fault == "drop":
            sock = environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError(f"self-test fault: dropped {action}")
        if fault is not None:
            return self.answer_fault(environ, start_response, fault, action)
        if environ.get("HTTP_X_AMZ_TARGET"):
            return self.json_refusals(environ, start_response, action)
        return self.app(environ, start_response)

    def json_refusals(
        self, environ: dict[str, Any], start_response: StartResponse, action: str
    ) -> Iterable[bytes]:
        """moto's access control refuses a JSON service's request (KMS, SQS, Secrets
        Manager) in XML, which botocore cannot read; AWS answers AccessDeniedException."""
        answered: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *_: Any) -> Callable[..., None]:
            answered.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(self.app(environ, keep))
        if answered["status"].startswith("403") and body.lstrip().startswith(b"<"):
            found = re.search(rb"<Message>(.*?)</Message>", body, re.S)
            message = found.group(1).decode() if found else "Access denied"
            body = json.dumps(
                {"__type": "com.amazonaws.kms#AccessDeniedException", "message": message}
            ).encode()
            answered["headers"] = [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(body))),
            ]
        start_response(answered["status"], answered["headers"])
        return [body]

    @staticmethod
    def answer_fault(
        environ: dict[str, Any], start_response: StartResponse, fault: str, action: str = ""
    ) -> Iterable[bytes]:
        """The fault as the service would answer it: XML (IAM, STS, SNS; S3's and EC2's
        own shapes) or JSON (DynamoDB, KMS, SQS, Secrets Manager)."""
        status, _code, message = FAULTS[fault]
        service = action.partition(":")[0]
        if environ.get("HTTP_X_AMZ_TARGET"):
            code = JSON_FAULT_CODES[fault]
            body = json.dumps(
                {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
            )
            content_type = "application/x-amz-json-1.0"
        elif service == "s3":
            body = f"<Error><Code>{fault}</Code><Message>{message}</Message></Error>"
            content_type = "application/xml"
        elif service == "ec2":
            code = "UnauthorizedOperation" if fault == "AccessDenied" else fault
            body = (
                f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
                "</Error></Errors><RequestID>selftest</RequestID></Response>"
            )
            content_type = "text/xml"
        else:
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault}</Code>"
                f"<Message>{message}</Message></Error><RequestId>selftest</RequestId>"
                "</ErrorResponse>"
            )
            content_type = "text/xml"
        data = body.encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
        return [data]

    @staticmethod
    def owner_mismatch(environ: dict[str, Any], action: str) -> str | None:
        """S3's answer to a request whose bucket is not ``ExpectedBucketOwner``'s: 403
        (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html),
        which moto does not check."""
        expected = environ.get("HTTP_X_AMZ_EXPECTED_BUCKET_OWNER")
        if not expected or not action.startswith("s3:"):
            return None
        from moto.s3.models import s3_backends

        bucket = environ.get("PATH_INFO", "").lstrip("/").split("/", 1)[0]
        owner = s3_backends.bucket_accounts.get(bucket)
        return "AccessDenied" if owner is not None and owner[1] != expected else None

    @staticmethod
    def action_of(environ: dict[str, Any], body: bytes) -> str:
        # SigV4: "Credential=KEY/date/region/service/aws4_request"
        scope = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split("/")
        service = scope[3] if len(scope) > 3 else "?"
        if service == "s3":
            # REST: the operation is the method and a sub-resource (GET /bucket?policy).
            method = environ.get("REQUEST_METHOD", "GET")
            query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            for sub, name in S3_OPERATIONS.get(method, {}).items():
                if sub in query:
                    return f"s3:{name}"
            return f"s3:{method}"
        query = parse_qs(body.decode("utf-8", "replace")) if body else {}
        query.update(parse_qs(environ.get("QUERY_STRING", "")))
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        name = query.get("Action", [target.rsplit(".", 1)[-1] or "?"])[0]
        return f"{service}:{name}"

    @staticmethod
    def account_of(environ: dict[str, Any]) -> str:
        """The account moto answers the request for (as its ``get_current_account``)."""
        if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
        scope = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2]
        return get_account_id_from(scope.split("/")[0]) if scope else "?"

    def take_fault(self, action: str) -> str | None:
        for rule in self.faults:
            if rule["action"] != action:
                continue
            if rule["skip"] > 0:
                rule["skip"] -= 1
                continue
            if rule["times"] is None or rule["times"] > 0:
                if rule["times"] is not None:
                    rule["times"] -= 1
                return str(rule["fault"])
        return None

    def control(
        self, path: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        with self.lock:
            if path == "/_selftest/requests":
                if method == "DELETE":
                    self.requests.clear()
                    self.accounts.clear()
                payload: Any = list(self.requests)
            elif path == "/_selftest/requests/accounts":
                payload = [list(pair) for pair in self.accounts]
            elif path == "/_selftest/auth":
                # moto's IAM access control: on, every request is checked against the
                # caller's IAM policies; off (the default), anything goes.
                enabled = method == "POST"
                settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if enabled else float("inf")
                ActionAuthenticatorMixin.request_count = 0
                payload = {"access_control": enabled}
            elif path == "/_selftest/faults":
                if method == "POST":
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    rules = json.loads(environ["wsgi.input"].read(length))
                    self.faults.extend(
                        {
                            "action": r["action"],
                            "fault": r["fault"],
                            "times": r.get("times"),
                            "skip": r.get("skip", 0),
                        }
                        for r in rules
                    )
                elif method == "DELETE":
                    self.faults.clear()
                payload = list(self.faults)
            elif path == "/_selftest/latency":
                if method == "POST":
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    self.latency = float(json.loads(environ["wsgi.input"].read(length))["seconds"])
                else:
                    self.latency = 0.0
                payload = {"seconds": self.latency, "most_in_flight": self.most_in_flight}
                self.most_in_flight = 0
            else:
                start_response("404 Not Found", [])
                return [b""]
        data = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [data]


def _scope_policy_actions_to_their_policy() -> None:
    """Give moto's access control the policy ARN as the resource of policy actions.

    moto resolves only role names to a resource and checks everything else against
    ``*``, so a policy scoped to one policy ARN (as docs/permissions.md's are) would be refused
    everything. AWS authorises these actions against the policy's ARN.
    """
    resolve_role = IamResponse._determine_resource

    def determine_resource(self: IamResponse) -> str:
        if "PolicyArn" in self.data:
            return str(self.data["PolicyArn"][0])
        return resolve_role(self)

    IamResponse._determine_resource = determine_resource  # type: ignore[method-assign]


def _scope_table_actions_to_their_table() -> None:
    """Give moto's access control the table's ARN as the resource of DynamoDB actions.

    moto checks DynamoDB actions against ``*``; AWS authorises them against the table named
    in the request, and docs/permissions.md's checker policy is scoped to it.
    """

    def determine_resource(self: DynamoHandler) -> str:
        try:
            body = json.loads(self.raw_body or b"{}")
        except ValueError:
            return "*"
        table = str(body.get("TableName") or "")
        if table and not table.startswith("arn:"):  # DescribeTable names it, or its ARN
            table = f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}"
        return str(body.get("ResourceArn") or table or "*")

    DynamoHandler._determine_resource = determine_resource  # type: ignore[attr-defined]


class SelfTestMotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        app = SelfTestLayer(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def _name_s3_reads_as_iam_does() -> None:
    """Authorise GetBucketEncryption as IAM does, with s3:GetEncryptionConfiguration
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html); moto
    checks it as s3:GetBucketEncryption, an action IAM does not have."""
    check = S3IAMRequest.check_action_permitted

    def check_as_iam_names_it(self: S3IAMRequest, resource: str) -> None:
        self._action = S3_IAM_ACTIONS.get(self._action, self._action)
        check(self, resource)

    S3IAMRequest.check_action_permitted = check_as_iam_names_it  # type: ignore[method-assign]


#: S3 operations whose IAM action has another name.
S3_IAM_ACTIONS = {"s3:GetBucketEncryption": "s3:GetEncryptionConfiguration"}


def main() -> None:
    _scope_policy_actions_to_their_policy()
    _scope_table_actions_to_their_table()
    _name_s3_reads_as_iam_does()
    server = SelfTestMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    sys.stdin.read()  # serve until the self-test process closes our stdin
    server.stop()


if __name__ == "__main__":
    main()
