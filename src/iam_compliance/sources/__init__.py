"""Source files: what ``--iam-policy-file`` names, read into what the mock account holds.

A bare policy document, a Terraform plan in JSON or a CloudFormation template (JSON or
YAML), told apart by their content. This layer sits beside :mod:`iam_compliance.aws` and
:mod:`iam_compliance.config`: it reads files into policy documents and never imports
boto3 or pytest. :mod:`.reading` tells a file's kind and reads it into :mod:`.model`'s
``Source``.
"""
