"""The one shape of expected failure: a stable code for programs, a message for people."""

from mediajobs.error_codes import checked


class CodedError(Exception):
    """`code` must be in the catalogue (mediajobs/error_codes.py), or this raises ValueError."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = checked(code)
        self.message = message
