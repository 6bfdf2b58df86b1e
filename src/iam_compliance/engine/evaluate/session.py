"""What a request signed with the task role's session carries, key by key.

The containers of an ECS task sign their DynamoDB requests with temporary credentials
of the task role: ECS (the service principal ``ecs-tasks.amazonaws.com``) calls
``sts:AssumeRole`` without MFA, under a session name of its choosing
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html), and the
containers call DynamoDB directly. AWS's list of global condition keys says, for each
key, when a request carries it
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
Going through that list for such a request, each key is one of:

* derived with a known value (:func:`.request.derive_context`: the role's ARN, account,
  tags, the region, the time, ...; and ``aws:MultiFactorAuthPresent`` below);
* carried, but with a value this run cannot know (:data:`UNKNOWN`): any condition on it
  is undecided where it matters, never taken as absent;
* known to be absent (:data:`ABSENT`): IAM's absent-key rules apply, no assumption;
* for the network keys (``aws:SourceIp``, ``aws:SourceVpce``, ``aws:VpceAccount``, ...),
  which depend on the path the containers' requests take, and keys whose presence AWS
  describes two ways (``aws:ViaAWSMCPService``, ``aws:IsMcpServiceAction``), or that
  depend on the action (``aws:RequestTag/...``, ``aws:TagKeys``): the user declares them;
  otherwise their absence is an assumption the verdicts name (:mod:`.request`).
"""

from __future__ import annotations

#: aws:MultiFactorAuthPresent, "included in the request context only when the principal
#: uses temporary credentials to make the request ... Temporary credentials are used to
#: authenticate IAM roles and IAM users with temporary tokens from AssumeRole": present,
#: and false, since ECS assumes the task role without MFA.
MFA_PRESENT = ("aws:MultiFactorAuthPresent", "false", "ECS assumes the task role without MFA")

#: aws:userid for a role session is "role-id:caller-specified-role-name"
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable):
#: the role's unique id (iam:GetRole's RoleId), then the session name, which ECS chooses
#: and this run cannot know.
USERID = "aws:userid"
USERID_SOURCE = "role id from iam:GetRole, then the session name ECS chooses, not known here"
USERID_WITHOUT_ROLE_ID = "role session: its role id and session name were not read"

#: Keys every such request carries, with a value this run cannot know: key -> source.
UNKNOWN: dict[str, str] = {
    # "included in the request context only when the principal uses temporary
    # credentials": when ECS last issued the task's credentials.
    "aws:TokenIssueTime": "when ECS issued the task's credentials, not known here",
    # "This key is always included in the request context": set by the containers' SDK.
    "aws:UserAgent": "set by the containers' SDK, not known here",
}

_NOT_EC2 = "credentials from ECS, not an EC2 instance role"
_DIRECT = "the containers call DynamoDB directly"
_NOT_FOR_SERVICE = "no AWS service calls for a resource of its own"
_NOT_OTHER_SERVICE = "credentials from ECS, not from {}"

#: Keys such a request does not carry: key -> why (each from the key's "Availability").
ABSENT: dict[str, str] = {
    # "requests that are made using ... IAM roles do not include this key"
    "aws:username": "roles have no user name",
    # "included in the request context only if the principal making the call was
    # authenticated using MFA. If MFA was not used, this key is not present" (the page as
    # kept in github.com/awsdocs/iam-user-guide, doc_source/reference_policies_condition-
    # keys.md). Today's page repeats aws:MultiFactorAuthPresent's availability line, but
    # the key is "the number of seconds since the requesting principal was authorized
    # using MFA", which a session assumed without MFA does not have.
    "aws:MultiFactorAuthAge": "ECS assumes the task role without MFA",
    # "present in the role-session of a role that was assumed using OpenID Connect"
    "aws:FederatedProvider": "ECS assumes the role with AssumeRole, not OIDC federation",
    # "included ... after a source identity has been set when a role is assumed"
    "aws:SourceIdentity": "ECS sets no source identity when it assumes the task role",
    # "only when the principal uses credentials from AssumeRoot"
    "aws:AssumedRoot": "not an AssumeRoot session",
    # "when the request originates from an AWS Sign-In OAuth session"
    "aws:SignInSessionArn": "not an AWS Sign-In session",
    # "by the Amazon Q Developer in chat applications service whenever a role session is
    # assumed"
    "aws:ChatbotSourceArn": "not a chat-application session",
    # "whenever the requester is signing requests with an Amazon EC2 role credential"
    "aws:Ec2InstanceSourceVpc": _NOT_EC2,
    "aws:Ec2InstanceSourcePrivateIPv4": _NOT_EC2,
    # "whenever the role session is created by an Amazon EC2 instance"
    "ec2:RoleDelivery": _NOT_EC2,
    "ec2:SourceInstanceArn": _NOT_EC2,
    "glue:RoleAssumedBy": _NOT_OTHER_SERVICE.format("AWS Glue"),
    "glue:CredentialIssuingService": _NOT_OTHER_SERVICE.format("AWS Glue"),
    "codebuild:BuildArn": _NOT_OTHER_SERVICE.format("CodeBuild"),
    "codebuild:ProjectArn": _NOT_OTHER_SERVICE.format("CodeBuild"),
    "lambda:SourceFunctionArn": _NOT_OTHER_SERVICE.format("Lambda"),
    "ssm:SourceInstanceArn": _NOT_OTHER_SERVICE.format("Systems Manager"),
    "identitystore:UserId": _NOT_OTHER_SERVICE.format("IAM Identity Center"),
    # "This key is not present ... If the call is made directly by an IAM principal"
    "aws:PrincipalServiceName": "the caller is a role session, not a service principal",
    "aws:PrincipalServiceNamesList": "the caller is a role session, not a service principal",
    # "This key is also not present when the principal makes the call directly"
    "aws:CalledVia": _DIRECT,
    "aws:CalledViaFirst": _DIRECT,
    "aws:CalledViaLast": _DIRECT,
    "aws:CalledViaAWSMCP": _DIRECT,
    # "only when the call to your resource is being made directly by an AWS service
    # principal on behalf of a resource"
    "aws:SourceAccount": _NOT_FOR_SERVICE,
    "aws:SourceArn": _NOT_FOR_SERVICE,
    "aws:SourceOrgID": _NOT_FOR_SERVICE,
    "aws:SourceOrgPaths": _NOT_FOR_SERVICE,
    # "This key is not included for programmatic requests"
    "aws:referer": "a programmatic request, not a browser link",
}
