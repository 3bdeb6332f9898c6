"""The one exception type the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Bad input or environment the user can fix: a missing file, a bad column, a full disk.

    The message must stand alone on one line and name the file, line or field at fault.
    The CLI prints it as ``movecoach: error: <message>`` and exits with ``exit_code``.
    """

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code
