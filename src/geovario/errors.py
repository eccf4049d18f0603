"""The one exception type users see for bad input.

Every message is a single line that starts with where it comes from (a function,
a file, a row or a field) and names the bad value, so the CLI can print it as is.
"""


class GeovarioError(ValueError):
    """Bad input or state that a user can fix; the CLI prints it in one line."""
