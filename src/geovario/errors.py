"""The one exception type users see for bad input, and the one shape of its message.

Every message is one line, ``"<where>: <what>"``: where it comes from (a function, a
file, a row or a field), then what is wrong, naming the bad value, and after ``"; "``
what to do about it; so the CLI prints it as is. :func:`input_error` builds that shape,
with a library's exception reduced to a few words in parentheses. GeovarioError itself
joins whatever line breaks a message still carries (a library's text, a file name), so
a message is one line however it was built.
"""

#: Characters of a library exception's message kept in a :func:`describe`.
MAX_CAUSE = 300


def one_line(text: object) -> str:
    """``text`` with its lines joined by single spaces (blank lines and edge spaces dropped)."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


class GeovarioError(ValueError):
    """Bad input or state that a user can fix; the CLI prints it in one line."""

    def __init__(self, message: object = "", *args: object):
        super().__init__(one_line(message), *args)


def describe(error: BaseException) -> str:
    """A library's exception in a few words: ``"Type: message"`` on one line.

    An OSError's own reason (``strerror``, "Permission denied") stands for its message;
    a long message is cut at :data:`MAX_CAUSE` characters.
    """
    reason = getattr(error, "strerror", None) if isinstance(error, OSError) else None
    text = one_line(reason or error)[:MAX_CAUSE]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def input_error(where: object, what: str, *, cause: BaseException | None = None,
                fix: str | None = None) -> GeovarioError:
    """The error ``"<where>: <what> (<cause>); <fix>"``, one line, for ``raise ... from None``.

    Args:
        where: the function, file, row or field the problem is in (a path is fine).
        what: what is wrong, naming the bad value.
        cause: the library exception this one replaces, shown by :func:`describe`.
        fix: what the user can do about it.
    """
    message = f"{where}: {what}"
    if cause is not None:
        message += f" ({describe(cause)})"
    if fix:
        message += f"; {fix}"
    return GeovarioError(message)
