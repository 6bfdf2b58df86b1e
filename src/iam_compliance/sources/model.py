"""What a source file says about the role, its policies and the table.

A source is what ``--iam-policy-file`` names: a bare policy document, a Terraform plan in
JSON, or a CloudFormation template. Each is read into a :class:`Source`; the embedded
account is seeded from it, and reports point back into it (file, line, resource address).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..engine.evaluate.unknowns import Unknown
from ..engine.policy import PolicyKind
from ..errors import PolicyError

SourceKind = Literal["policy", "terraform-plan", "cloudformation"]
SourceFormat = Literal["json", "yaml"]


@dataclass(frozen=True)
class Place:
    """Where something is written: a resource address and a 1-based line of the file."""

    address: str
    line: int


@dataclass(frozen=True)
class SourcePolicy:
    """One policy the role has, as the source writes it."""

    #: The name IAM knows it by (an inline policy's name on the role).
    name: str
    kind: PolicyKind
    #: The document; None when the source leaves it open (see ``Source.unknowns``).
    document: Mapping[str, Any] | None
    #: The resource that holds it, and the line where its document starts.
    place: Place
    #: The line of each statement of the document, in order (empty when not known).
    statement_lines: tuple[int, ...] = ()
    #: Where the document is within the resource, as a path of keys and indexes from
    #: the top of the file (a template) or None (a plan or a bare document).
    path: tuple[str | int, ...] | None = None

    def statement_line(self, index: int) -> int:
        """The line of statement ``index`` (0-based), else the document's line."""
        if 0 <= index < len(self.statement_lines):
            return self.statement_lines[index]
        return self.place.line


@dataclass(frozen=True)
class Source:
    """Everything one source file says, resolved for one target."""

    #: The file as given on the command line.
    path: Path
    kind: SourceKind
    format: SourceFormat
    #: The file's text, exactly as read (patches are made against it).
    text: str
    #: The role's trust policy; None: a bare document, the fixtures' is used.
    trust: Mapping[str, Any] | None = None
    #: The role's tags; None: a bare document, the fixtures' are used.
    role_tags: Mapping[str, str] | None = None
    #: Where the role is defined; None for a bare document.
    role_place: Place | None = None
    #: The role's path (``/ml-platform/``): part of its ARN, so of ``aws:PrincipalArn``.
    role_path: str = "/"
    #: The role's policies: attached managed ones, inline ones, the boundary.
    policies: tuple[SourcePolicy, ...] = ()
    #: The table's tags and resource policy; None when the source does not define the
    #: table (the fixtures' table is used).
    table_tags: Mapping[str, str] | None = None
    table_policy: SourcePolicy | None = None
    table_place: Place | None = None
    #: Values the source leaves open (known only after apply, not resolvable).
    unknowns: tuple[Unknown, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"--iam-policy-file {self.path}"

    @property
    def describes_role(self) -> bool:
        return self.kind != "policy"

    def policy_named(self, name: str) -> SourcePolicy | None:
        for policy in self.policies:
            if policy.name == name:
                return policy
        return None


#: A role's path: ``/``, or ``/`` ... ``/`` around "!" to DEL; at most 512 characters
#: (the Path parameter: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
#: IAM puts it in the role's ARN: ``role/ml-platform/Name``.
_IAM_PATH = re.compile(r"/(?:[\x21-\x7f]+/)?")


def role_path(value: object, origin: str, where: str) -> str:
    """``value`` as a role's path; anything IAM would refuse is bad input, named."""
    if value is None or value == "":
        return "/"
    if not isinstance(value, str) or not _IAM_PATH.fullmatch(value) or len(value) > 512:
        raise PolicyError(
            origin, f"{where}: a role's path must begin and end with /, got {value!r}"
        )
    return value
