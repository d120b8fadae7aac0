"""One module per vendor's siteverify API, all on top of api.verify.

Each renders the shared Verdict in its vendor's field names, error codes, methods and
content types, and handles that vendor's published test keys.
"""
