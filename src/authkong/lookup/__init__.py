"""Offline look-ups about a visitor: the country of an IP address, the kind of an email.

Both run inside the process on data shipped with their packages: no network call, no
download at run time (the optional email DNS check is the one exception, and off by default).
"""

from authkong.lookup.country import UNKNOWN_COUNTRY, country_of
from authkong.lookup.email import EmailStatus, check_email

__all__ = ["UNKNOWN_COUNTRY", "EmailStatus", "check_email", "country_of"]
