"""What the application's own tests ask of AWS, as requirements (``--iam-record``).

Pure: no AWS SDK, no pytest. The botocore hooks that see the calls live in
:mod:`iam_compliance.aws.recorder`, the pytest hooks in
:mod:`iam_compliance.pytest_plugin.recording`.

* ``model``: a call as botocore makes it, and what IAM needs for it (an :class:`Access`);
* ``calls.toml`` and ``mapping``: the data that turns an API operation into IAM actions,
  and the translation;
* ``resources`` and ``partiql``: resource ARNs read from a call's parameters;
* ``ledger``: what a run recorded, the first test of each entry, merged across workers;
* ``writer``: the requirements file, in the format of ``fixtures/required_actions.toml``;
* ``comparison``: recorded calls against a requirements file, both ways.
"""
