"""Deployed functions. Declarations only: every call is handed to the mediajobs package."""
from firebase_functions import https_fn
@https_fn.on_request()
def ping(req: https_fn.Request) -> https_fn.Response:
    return https_fn.Response("pong")
