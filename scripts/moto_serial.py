"""moto's server with one AWS request handled at a time.

moto's DynamoDB checks a TransactWriteItems' conditions and applies its
writes without a lock, so under its threaded server two parallel
transactions can both see "absent" and both succeed (seen: 2 winners of 50
parallel conditional creates). DynamoDB itself never lets that happen. This
launcher keeps moto's threaded HTTP server (keep-alive connections stay
independent) but runs the application one request at a time, so the
emulator gives the isolation the store contract relies on; the tests still
fail if our code skipped its conditions (requests interleave between the
read and the write of a read-then-write).

Usage: python scripts/moto_serial.py HOST PORT
"""

import os
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ, start_response):
        with lock:
            # The whole answer is produced inside the lock.
            return list(app(environ, start_response))

    run_simple(host, port, serial, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
