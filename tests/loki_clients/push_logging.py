#!/usr/bin/env python3
"""Logs through Python's logging module with PyPI python-logging-loki's LokiHandler into Lookout.

Run by the ignored e2e test `loki_clients::python_logging_loki_records_are_queried_back` as
`push_logging.py http://127.0.0.1:PORT`; that test reads the records back through query_range and knows exactly
what is sent here (keep the two in step). Only 127.0.0.1 is contacted.

What python-logging-loki 0.3.1 sends (logging_loki/emitter.py, LokiEmitterV1 with version="1"): one JSON POST per
record, `{"streams": [{"stream": <labels>, "values": [["<time.time() in ns>", "<formatted record>"]]}]}`, where the
labels are the handler's `tags`, `severity` = the level name in lower case, `logger` = the logger's name, and the
record's `extra={"tags": {...}}` with names reduced to [A-Za-z0-9_] ("." and "-" become "_"). Anything but 204 raises.
"""

import logging
import sys
import urllib.parse

INSTALL_HINT = (
    "install it with the PyPI step of .ci/run "
    "('== peers (PyPI packages for the Loki client checks)')"
)

try:
    import logging_loki
except ImportError as e:
    sys.exit(f"push_logging.py: python-logging-loki is missing ({e}); {INSTALL_HINT}")


class StrictLokiHandler(logging_loki.LokiHandler):
    """The library's handler, except that a failed push fails the script instead of printing a warning."""

    def handleError(self, record):  # noqa: N802 (logging's name)
        raise  # noqa: PLE0704 -- called from inside emit's `except`, so this re-raises the push error


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: push_logging.py http://127.0.0.1:PORT")
    base = sys.argv[1].rstrip("/")
    if urllib.parse.urlsplit(base).hostname != "127.0.0.1":
        sys.exit(f"push_logging.py: refusing {base!r}: only 127.0.0.1 is contacted")

    handler = StrictLokiHandler(
        url=f"{base}/loki/api/v1/push",
        tags={"application": "checkout", "env": "ci"},
        version="1",
    )
    # Diagnostics only: show Lookout's answer when it is not 204 (the library drops the body). A requests hook
    # must return None to leave the response alone.
    def show_refusal(resp, *_args, **_kwargs):
        if resp.status_code != 204:
            print(f"push answered {resp.status_code}: {resp.text!r}", file=sys.stderr)

    handler.emitter.session.hooks["response"].append(show_refusal)

    log = logging.getLogger("shop.orders")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(handler)

    log.debug("cache warmed in 12 ms")
    log.info("order 1042 accepted \u2713 (caf\u00e9)")
    log.warning("retrying upstream call (attempt 2)")
    log.error(
        "payment declined for order 1042",
        extra={"tags": {"service": "payments", "tenant.id": "t-1"}},
    )
    log.critical("disk almost full: 97%")
    try:
        raise ValueError("bad input")
    except ValueError:
        log.exception("unhandled error in worker")
    handler.close()
    print("push_logging.py: 6 records pushed")


if __name__ == "__main__":
    main()
