"""The one shape of expected failure: a stable code for programs, a message for people."""


class CodedError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
