"""User errors: mistakes in input or config that deserve one clear line, not a traceback."""


class UserError(Exception):
    """A problem the user can fix (a path, a config key, a file's content); the message says how."""
