"""The installed version of rs-annotate (from its package metadata) and the generator name datasets record."""

from rs_formats.console import package_version

__version__ = package_version("rs-annotate")
#: The manifest's ``generator`` of every dataset rs-annotate writes.
GENERATOR = f"rs-annotate {__version__}"
