"""Pure logic of the service: no I/O, no clock reads, no globals.

Everything here takes the current time and the keys it needs as arguments, so the
HTTP layer and the tests decide what "now" is.
"""
