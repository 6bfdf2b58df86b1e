"""The one place that talks to AWS: the boto3 adapter, and the embedded moto account.

``adapter`` reads a role's policies and writes policy versions through a boto3 session
given from outside; ``mock`` seeds moto's in-process account from ``fixtures/`` and hands
the adapter a session into it; ``catalog`` knows which actions exist.
"""
