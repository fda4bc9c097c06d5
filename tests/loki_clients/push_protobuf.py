#!/usr/bin/env python3
"""Pushes a snappy-compressed protobuf `logproto.PushRequest` to Lookout, as Alloy and Promtail do.

Run by the ignored e2e test `loki_clients::logproto_protobuf_push_is_queried_back` as
`push_protobuf.py http://127.0.0.1:PORT BASE_NS`; that test reads the entries back and knows exactly what is sent here
(keep the two in step). Only 127.0.0.1 is contacted (plain http.client: no proxy settings apply).

Where the schema comes from: no PyPI package ships Grafana Loki's `push.proto` or code generated from it (the
Python Loki clients that speak protobuf carry their own hand-made copies, some of which differ from Loki's), and the
project does not copy upstream files. So the message types are built here at run time with the `protobuf` package's
descriptor API, field for field as grafana/loki `pkg/push/push.proto` declares the public push messages (package
`logproto`; names, numbers, types and labels checked against that file; the gogoproto options there only affect Go
code generation and not the wire format), importing the real `google/protobuf/timestamp.proto` that `protobuf`
ships. The encoding is then done by the protobuf runtime, not by hand, and the body is snappy *block* compressed with
PyPI python-snappy (cramjam), which is what Loki's push handler expects.
"""

import http.client
import sys
import urllib.parse

INSTALL_HINT = (
    "install it with the PyPI step of .ci/run "
    "('== peers (PyPI packages for the Loki client checks)')"
)

try:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
except ImportError as e:
    sys.exit(f"push_protobuf.py: the protobuf package is missing ({e}); {INSTALL_HINT}")
try:
    import snappy
except ImportError as e:
    sys.exit(f"push_protobuf.py: python-snappy is missing ({e}); {INSTALL_HINT}")

NS = 1_000_000_000
F = descriptor_pb2.FieldDescriptorProto


def field(name, number, ftype, label=F.LABEL_OPTIONAL, type_name=None, json_name=None):
    f = F(name=name, number=number, type=ftype, label=label, json_name=json_name or name)
    if type_name:
        f.type_name = type_name
    return f


def logproto_messages():
    """The public messages of Loki's pkg/push/push.proto (package logproto), as message classes."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="pkg/push/push.proto",
        package="logproto",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"],
    )
    rep = F.LABEL_REPEATED
    fdp.message_type.add(
        name="PushRequest",
        field=[
            field("streams", 1, F.TYPE_MESSAGE, rep, ".logproto.StreamAdapter"),
            field("format", 2, F.TYPE_STRING),
        ],
    )
    fdp.message_type.add(name="PushResponse")
    fdp.message_type.add(
        name="StreamAdapter",
        field=[
            field("labels", 1, F.TYPE_STRING),
            field("entries", 2, F.TYPE_MESSAGE, rep, ".logproto.EntryAdapter"),
            field("hash", 3, F.TYPE_UINT64),
        ],
    )
    fdp.message_type.add(
        name="LabelPairAdapter",
        field=[field("name", 1, F.TYPE_STRING), field("value", 2, F.TYPE_STRING)],
    )
    fdp.message_type.add(
        name="EntryAdapter",
        field=[
            field("timestamp", 1, F.TYPE_MESSAGE, type_name=".google.protobuf.Timestamp"),
            field("line", 2, F.TYPE_STRING),
            field("structuredMetadata", 3, F.TYPE_MESSAGE, rep, ".logproto.LabelPairAdapter"),
            field("parsed", 4, F.TYPE_MESSAGE, rep, ".logproto.LabelPairAdapter"),
        ],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(fdp)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"logproto.{name}"))
        for name in ("PushRequest", "StreamAdapter", "EntryAdapter", "LabelPairAdapter")
    }


def build(base_ns: int) -> bytes:
    m = logproto_messages()
    req = m["PushRequest"]()

    def entry(stream, ts_ns, line, metadata=(), parsed=()):
        e = stream.entries.add()
        e.timestamp.seconds, e.timestamp.nanos = divmod(ts_ns, NS)
        e.line = line
        for k, v in metadata:
            e.structuredMetadata.add(name=k, value=v)
        for k, v in parsed:
            e.parsed.add(name=k, value=v)

    web = req.streams.add(labels='{job="checkout", env="ci"}')
    entry(web, base_ns + 1 * NS + 123, "GET /orders/1042 200",
          [("trace_id", "4bf92f3577b34da6"), ("user", "alice smith")])
    entry(web, base_ns + 2 * NS, "GET /orders/1043 500", [("trace_id", "00f067aa0ba902b7")])
    entry(web, base_ns + 3 * NS + 999_999_999, "healthz ok")
    # A label value with an escaped quote and backslash, and a `parsed` pair, which is query-side only: Loki's
    # push path does not store it.
    billing = req.streams.add(labels='{app="billing", region="eu-west-1", note="say \\"hi\\" C:\\\\tmp"}')
    entry(billing, base_ns + 1 * NS + 500_000_000, 'level=info msg="invoice 77 sent \u2713"',
          [("invoice", "77")], parsed=[("parsed_only", "x")])

    raw = req.SerializeToString()
    body = snappy.compress(raw)
    assert snappy.uncompress(body) == raw
    back = m["PushRequest"].FromString(raw)
    assert back == req and back.streams[0].entries[0].timestamp.nanos == 123
    return body


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: push_protobuf.py http://127.0.0.1:PORT BASE_NS")
    parts = urllib.parse.urlsplit(sys.argv[1])
    if parts.hostname != "127.0.0.1" or parts.scheme != "http":
        sys.exit(f"push_protobuf.py: refusing {sys.argv[1]!r}: only http://127.0.0.1 is contacted")
    body = build(int(sys.argv[2]))
    conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    conn.request(
        "POST",
        "/loki/api/v1/push",
        body=body,
        headers={"Content-Type": "application/x-protobuf", "User-Agent": "lookout-e2e-logproto/1"},
    )
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    conn.close()
    if resp.status != 204:
        sys.exit(f"push_protobuf.py: push answered {resp.status}: {text!r}")
    print(f"push_protobuf.py: {len(body)} bytes pushed, 204")


if __name__ == "__main__":
    main()
