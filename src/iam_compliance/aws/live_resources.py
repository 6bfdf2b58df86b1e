"""Read resources in a live account: each resource's policy, encryption and keys.

What one resource costs (requests):

* DynamoDB table: ``ListTagsOfResource`` (every page), ``GetResourcePolicy``,
  ``DescribeTable`` (its encryption); a stream: ``GetResourcePolicy``.
* S3 bucket: ``GetBucketPolicy`` (sent with ``ExpectedBucketOwner``, the target's account;
  once more without it when S3 refuses: another account's bucket), ``GetBucketEncryption``
  (IAM action ``s3:GetEncryptionConfiguration``), ``GetBucketLocation``.
* KMS key: ``DescribeKey``, ``GetKeyPolicy``, ``ListGrants`` (every page); a key read only
  because something is encrypted with it, and managed by AWS: ``DescribeKey`` alone.
* SQS queue: ``GetQueueUrl``, ``GetQueueAttributes``; SNS topic: ``GetTopicAttributes``;
  secret: ``GetResourcePolicy``.
* VPC endpoints: one ``DescribeVpcEndpoints`` for all of them (one per endpoint only when
  one of them does not exist, which fails the whole request).

Resources whose ARN names a region are read in that region. A read the checker is refused
raises :class:`~iam_compliance.errors.AccessDeniedError` naming the IAM action; a part
that is not the policy (a table's encryption, a bucket's region, a key's grants) is
recorded as not known instead.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..engine.resources import (
    Encryption,
    EndpointState,
    Governing,
    Grant,
    KeyDetails,
    KeyManager,
    ResourceState,
    kind_of,
    policy_name,
)
from ..errors import AccessDeniedError, AwsError, PolicyError
from .answers import (
    ask,
    grant_of,
    is_aws_key,
    key_arn,
    kms_encryption,
    read_endpoints,
    text_or_none,
)
from .connection import Connection
from .resources import aws_managed_key, failed, resource_policy
from .translate import _calling as calling


class LiveResources:
    """Reads resources through one connection, as the account ``account()`` returns."""

    def __init__(self, connection: Connection, account: Callable[[], str]) -> None:
        self._connection = connection
        self._account = account
        self._regions: dict[str, Connection] = {}
        self._lock = threading.Lock()
        # Made now, from the caller's thread: tables are read from several threads.
        self.dynamodb: Any = connection.client("dynamodb")

    def client(self, service: str, region: str | None = None) -> Any:
        """The connection's client of ``service``, in ``region`` (default: the target's)."""
        with self._lock:
            connection = self._connection
            if region and region != connection.region:
                if region not in self._regions:
                    self._regions[region] = dataclasses.replace(connection, region=region)
                connection = self._regions[region]
            return connection.client(service)

    def read(self, governing: Governing, *, implied: bool = False) -> ResourceState:
        kind = kind_of(governing)
        if kind == "table":
            return self._table(governing)
        read = {
            "stream": self._stream,
            "bucket": self._bucket,
            "key": lambda g: self._key(g, implied),
            "queue": self._queue,
            "topic": self._topic,
            "secret": self._secret,
        }[kind]
        return read(governing)

    # -- DynamoDB ----------------------------------------------------------------------

    def _table(self, governing: Governing) -> ResourceState:
        arn = governing.arn
        dynamodb = self._dynamodb_for(arn)
        tags: dict[str, str] = {}
        with calling("dynamodb:ListTagsOfResource", arn):
            for page in dynamodb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn):
                tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
        text = ask(
            "dynamodb:GetResourcePolicy",
            arn,
            lambda: dynamodb.get_resource_policy(ResourceArn=arn)["Policy"],
            none={"PolicyNotFoundException"},
        )
        return self._state(
            governing,
            text,
            "table resource policy",  # as verdicts name it
            tags=tags,
            encryption=self._table_encryption(dynamodb, arn),
        )

    def _table_encryption(self, dynamodb: Any, arn: str) -> Encryption:
        """DescribeTable's SSEDescription: none is DynamoDB's AWS owned key; SSEType KMS
        names the key, AWS managed (aws/dynamodb) or the customer's, which DescribeKey
        tells apart
        (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_SSEDescription.html)."""
        try:
            with calling("dynamodb:DescribeTable", arn):
                table = dynamodb.describe_table(TableName=arn)["Table"]
        except AwsError as exc:
            return Encryption("unknown", detail=str(exc))
        sse = table.get("SSEDescription") or {}
        key = sse.get("KMSMasterKeyArn")
        if sse.get("SSEType") == "KMS" and key and sse.get("Status") != "DISABLED":
            return Encryption("kms", key)
        return Encryption("service")

    def _stream(self, governing: Governing) -> ResourceState:
        arn = governing.arn
        dynamodb = self._dynamodb_for(arn)
        text = ask(
            "dynamodb:GetResourcePolicy",
            arn,
            lambda: dynamodb.get_resource_policy(ResourceArn=arn)["Policy"],
            none={"PolicyNotFoundException"},
            missing={"ResourceNotFoundException"},
        )
        return self._state(governing, text, policy_name("stream", arn))

    def _dynamodb_for(self, arn: str) -> Any:
        region = arn.split(":")[3]
        return (
            self.dynamodb if region == self._connection.region else self.client("dynamodb", region)
        )

    # -- S3 ----------------------------------------------------------------------------

    def _bucket(self, governing: Governing) -> ResourceState:
        arn = governing.arn
        bucket = arn.split(":::", 1)[1]
        s3 = self.client("s3")
        account = self._account()
        owner: str | None = account
        try:
            # S3 refuses (403) a request whose bucket is not ExpectedBucketOwner's
            # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html):
            # answered, the bucket is the target account's.
            text = self._bucket_policy(s3, arn, bucket, account)
        except AccessDeniedError:
            # Another account's bucket, or a refusal: asked again without the condition.
            text = self._bucket_policy(s3, arn, bucket, None)
            owner = None
        region = self._bucket_region(s3, arn, bucket)
        return self._state(
            governing,
            text,
            policy_name("bucket", arn),
            account=owner,
            cross_account=owner is None,
            region=region,
            encryption=self._bucket_encryption(s3, arn, bucket, region),
        )

    @staticmethod
    def _bucket_policy(s3: Any, arn: str, bucket: str, owner: str | None) -> str | None:
        expected = {"ExpectedBucketOwner": owner} if owner else {}
        return text_or_none(
            ask(
                "s3:GetBucketPolicy",
                arn,
                lambda: s3.get_bucket_policy(Bucket=bucket, **expected)["Policy"],
                none={"NoSuchBucketPolicy"},
                missing={"NoSuchBucket"},
            )
        )

    @staticmethod
    def _bucket_region(s3: Any, arn: str, bucket: str) -> str | None:
        try:
            with calling("s3:GetBucketLocation", arn):
                where = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        except AwsError:
            return None  # not known; nothing else depends on it here
        # us-east-1 answers no constraint, and the oldest EU buckets "EU"
        # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html).
        return text_or_none(
            {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(where, where)
        )

    def _bucket_encryption(self, s3: Any, arn: str, bucket: str, region: str | None) -> Encryption:
        """The bucket's default encryption: SSE-S3 (AES256) involves no KMS key; SSE-KMS
        without a key, or with ``alias/aws/s3``, the AWS managed key; a key id or alias is
        resolved in the requester's account
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ServerSideEncryptionByDefault.html)."""
        try:
            config = ask(
                "s3:GetEncryptionConfiguration",
                arn,
                lambda: s3.get_bucket_encryption(Bucket=bucket)[
                    "ServerSideEncryptionConfiguration"
                ],
                none={"ServerSideEncryptionConfigurationNotFoundError"},
            )
        except AwsError as exc:
            return Encryption("unknown", detail=str(exc))
        rules = (config or {}).get("Rules") or [{}]
        default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm")
        if algorithm is None:
            return Encryption("none")
        if not str(algorithm).startswith("aws:kms"):
            return Encryption("service")
        key = default.get("KMSMasterKeyID")
        if not key or is_aws_key(key, "s3"):
            return Encryption("aws-managed", key)
        partition = arn.split(":")[1]
        return Encryption(
            "kms",
            key_arn(key, partition, region or self._connection.region, self._account()),
        )

    # -- KMS ---------------------------------------------------------------------------

    def _key(self, governing: Governing, implied: bool) -> ResourceState:
        ref = governing.arn
        kms = self.client("kms", ref.split(":")[3])
        manager: KeyManager | None = None
        state: str | None = None
        notes: list[str] = []
        arn = ref
        try:
            meta = ask(
                "kms:DescribeKey",
                ref,
                lambda: kms.describe_key(KeyId=ref)["KeyMetadata"],
                missing={"NotFoundException"},
            )
            arn, state = str(meta["Arn"]), meta.get("KeyState")
            manager = meta.get("KeyManager")
        except AccessDeniedError as exc:
            if ":alias/" in ref:
                raise  # without the key's ARN, nothing else can be read
            notes.append(str(exc))
        key = Governing("kms", arn)
        if implied and manager == "AWS":
            return aws_managed_key(arn, KeyDetails(manager, state))
        grants = self._grants(kms, arn, notes)
        details = KeyDetails(manager, state, grants, "; ".join(notes))
        try:
            # A key has one key policy, named "default"
            # (https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html).
            text = ask(
                "kms:GetKeyPolicy",
                arn,
                lambda: kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"],
                missing={"NotFoundException"},
            )
        except (AwsError, PolicyError) as exc:
            return failed(key, exc, key=details)
        return self._state(key, text, policy_name("key", arn), key=details)

    @staticmethod
    def _grants(kms: Any, arn: str, notes: list[str]) -> tuple[Grant, ...] | None:
        """Every grant of the key, every page; the role's are picked out by the evaluator
        (grants to an account or a service matter as much as grants to the role)."""
        try:
            with calling("kms:ListGrants", arn):
                pages = kms.get_paginator("list_grants").paginate(KeyId=arn)
                return tuple(grant_of(g) for page in pages for g in page.get("Grants", []))
        except AwsError as exc:
            notes.append(str(exc))
            return None

    # -- SQS, SNS, Secrets Manager -------------------------------------------------------

    def _queue(self, governing: Governing) -> ResourceState:
        arn = governing.arn
        _, partition, _, region, account, name = arn.split(":", 5)
        sqs = self.client("sqs", region)
        missing = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
        url = ask(
            "sqs:GetQueueUrl",
            arn,
            lambda: sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"],
            missing=missing,
        )
        attributes = ask(
            "sqs:GetQueueAttributes",
            arn,
            lambda: sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["Policy", "KmsMasterKeyId", "SqsManagedSseEnabled"]
            ).get("Attributes", {}),
            missing=missing,
        )
        # SSE-SQS, SSE-KMS or none
        # (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html).
        key = attributes.get("KmsMasterKeyId")
        if key:
            encryption = kms_encryption(key, "sqs", partition, region, account)
        elif attributes.get("SqsManagedSseEnabled") == "true":
            encryption = Encryption("service")
        else:
            encryption = Encryption("none")
        return self._state(
            governing, attributes.get("Policy"), policy_name("queue", arn), encryption=encryption
        )

    def _topic(self, governing: Governing) -> ResourceState:
        arn = governing.arn
        _, partition, _, region, account, _ = arn.split(":", 5)
        sns = self.client("sns", region)
        attributes = ask(
            "sns:GetTopicAttributes",
            arn,
            lambda: sns.get_topic_attributes(TopicArn=arn).get("Attributes", {}),
            missing={"NotFound", "NotFoundException"},
        )
        key = attributes.get("KmsMasterKeyId")
        encryption = (
            kms_encryption(key, "sns", partition, region, account) if key else Encryption("none")
        )
        return self._state(
            governing, attributes.get("Policy"), policy_name("topic", arn), encryption=encryption
        )

    def _secret(self, governing: Governing) -> ResourceState:
        arn = governing.arn
        secrets = self.client("secretsmanager", arn.split(":")[3])
        # A partial ARN (the name without its random suffix) names the secret too
        # (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetResourcePolicy.html).
        answer = ask(
            "secretsmanager:GetResourcePolicy",
            arn,
            lambda: secrets.get_resource_policy(SecretId=arn),
            missing={"ResourceNotFoundException"},
        )
        return self._state(governing, answer.get("ResourcePolicy"), policy_name("secret", arn))

    # -- VPC endpoints -----------------------------------------------------------------

    def read_endpoints(self, ids: Sequence[str]) -> dict[str, EndpointState]:
        return read_endpoints(self.client("ec2"), ids)

    # -- inside ------------------------------------------------------------------------

    def _state(
        self, governing: Governing, text: str | None, what: str, **known: Any
    ) -> ResourceState:
        account = known.pop("account", governing.arn.split(":")[4] or None)
        known.setdefault("region", governing.arn.split(":")[3] or None)
        # Whether it is another account's: the adapter tells from the target's account.
        cross = known.pop("cross_account", None)
        policy = resource_policy(text, governing.arn, what) if text else None
        return ResourceState(
            governing.arn,
            governing.service,
            kind_of(governing),
            "read" if policy is not None else "none",
            resource_policy=policy,
            account=account,
            cross_account=cross,
            **known,
        )
