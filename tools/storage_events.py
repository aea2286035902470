"""Storage events for the local stack: fake-gcs-server's object notifications, delivered to the
Functions emulator as the Firebase Storage emulator would deliver them.

fake-gcs-server (our Storage emulator) announces a finalized object only by publishing to a
Pub/Sub topic (`-event.pubsub-project-id`, `-event.pubsub-topic`, through PUBSUB_EMULATOR_HOST,
gRPC). The Functions emulator receives Storage events only on its multicast route
(`POST /functions/projects/{project}/trigger_multicast`, a JSON CloudEvent of type
`google.cloud.storage.object.v1.finalized` whose data is the object's JSON API resource), which the
Firebase Storage emulator posts to and which we cannot run offline. This process stands in
between: a gRPC server that answers `google.pubsub.v1.Publisher/Publish` (the only call
fake-gcs makes) and posts each OBJECT_FINALIZE message to that route.

    python tools/storage_events.py --port N --functions-origin http://127.0.0.1:M --project P

Protocol buffers are decoded by hand (three messages, a few fields), so nothing beyond grpcio
is needed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent import futures
from typing import Any

EVENT_TYPES = {"OBJECT_FINALIZE": "google.cloud.storage.object.v1.finalized"}
DELIVERY_ATTEMPTS = 20  # the Functions emulator may still be loading our functions: retry a while


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a serialized message; length-delimited values as bytes."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            size, at = _varint(data, at)
            value, at = data[at : at + size], at + size
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def messages(publish_request: bytes) -> list[tuple[bytes, dict[str, str]]]:
    """The (data, attributes) of each PubsubMessage of a PublishRequest (topic=1, messages=2;
    PubsubMessage: data=1, attributes=2 as map entries key=1 value=2)."""
    found = []
    for number, _, value in fields(publish_request):
        if number != 2:
            continue
        data, attributes = b"", {}
        for inner, _, part in fields(value):
            if inner == 1:
                data = part
            elif inner == 2:
                entry = {n: v.decode() for n, _, v in fields(part)}
                attributes[entry.get(1, "")] = entry.get(2, "")
        found.append((data, attributes))
    return found


def publish_response(count: int) -> bytes:
    """A PublishResponse with `count` message ids (field 1, repeated string)."""
    out = b""
    for _ in range(count):
        message_id = uuid.uuid4().hex.encode()
        out += b"\x0a" + bytes([len(message_id)]) + message_id
    return out


def cloud_event(data: bytes, attributes: dict[str, str]) -> dict[str, Any] | None:
    """The CloudEvent the Firebase Storage emulator would send for this notification, or None."""
    event_type = EVENT_TYPES.get(attributes.get("eventType", ""))
    if event_type is None:
        return None
    resource = json.loads(data)
    # The JSON API resource as GCS sends it: int64 fields as strings, a metageneration.
    resource["generation"] = str(resource.get("generation") or attributes.get("objectGeneration") or "1")
    resource.setdefault("metageneration", "1")
    resource["size"] = str(resource.get("size", "0"))
    bucket, name = resource["bucket"], resource["name"]
    return {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "type": event_type,
        "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "subject": f"objects/{name}",
        # Microseconds always: firebase-functions parses exactly "%Y-%m-%dT%H:%M:%S.%f%z".
        "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "datacontenttype": "application/json",
        "data": resource,
    }


class Relay:
    def __init__(self, functions_origin: str, project: str) -> None:
        self.url = f"{functions_origin.rstrip('/')}/functions/projects/{project}/trigger_multicast"

    def publish(self, request: bytes, context: Any) -> bytes:
        received = messages(request)
        for data, attributes in received:
            event = cloud_event(data, attributes)
            if event is not None:
                threading.Thread(target=self.deliver, args=(event,), daemon=True).start()
        return publish_response(len(received))

    def deliver(self, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/cloudevents+json; charset=UTF-8"}
        for attempt in range(DELIVERY_ATTEMPTS):
            try:
                request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=30) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError) as error:
                print(f"storage events: {event['subject']}: attempt {attempt + 1}: {error}", file=sys.stderr)
            threading.Event().wait(min(5.0, 0.5 * (attempt + 1)))
        print(f"storage events: gave up on {event['subject']}", file=sys.stderr)


def serve(port: int, relay: Relay) -> Any:
    import grpc  # type: ignore[import-untyped]

    def ok(request: bytes, context: Any) -> bytes:
        return request  # GetTopic/CreateTopic: the Topic as asked (name=1)

    handlers = {
        "Publish": grpc.unary_unary_rpc_method_handler(relay.publish),
        "GetTopic": grpc.unary_unary_rpc_method_handler(ok),
        "CreateTopic": grpc.unary_unary_rpc_method_handler(ok),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("google.pubsub.v1.Publisher", handlers)])
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--functions-origin", required=True)
    parser.add_argument("--project", required=True)
    args = parser.parse_args(argv)
    server = serve(args.port, Relay(args.functions_origin, args.project))
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
