"""iam-compliance: prove an IAM role can do what its workload needs, and fix it safely."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("iam-compliance")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
