"""The base of every error that means bad input the user can fix: reported in one line, without a traceback."""


class UserError(Exception):
    """Bad input (a config value, a missing or corrupt file) that the user can fix; the message says how."""
