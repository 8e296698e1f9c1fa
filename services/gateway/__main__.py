"""Run the gateway: ``python -m services.gateway [--port N]``.

Green first (eventlet monkey-patching, as every process of the platform),
then logs, the preflight check (the platform mode; the gateway signs no tree
heads, so it needs no audit key), the gateway (route table, token keys, RPC pool) and eventlet's
WSGI server on ``GATEWAY_HTTP_PORT``. One RPC proxy is started before the
port opens, so a broker that cannot be reached stops the process at once.
SIGTERM (and Ctrl-C) stop taking connections and exit 0.
"""

from __future__ import annotations

from shared.runtime.process.bootstrap import green

green()

import argparse  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import eventlet  # noqa: E402
import eventlet.wsgi  # noqa: E402
import greenlet  # noqa: E402

from services.gateway.app import Gateway, wsgi_app  # noqa: E402
from services.gateway.rpc_pool import RpcPool  # noqa: E402
from shared.config import Settings, gateway_port  # noqa: E402
from shared.runtime.observability.logs import configure_logging  # noqa: E402
from shared.runtime.process.preflight import check_or_exit  # noqa: E402

log = logging.getLogger("orgwork.gateway")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="override GATEWAY_HTTP_PORT")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging("gateway", settings.log_format, settings.log_level)
    check_or_exit(settings, "gateway", signs_heads=False)
    gateway = Gateway.from_settings(settings)
    if isinstance(gateway.caller, RpcPool):
        gateway.caller.warm()
    port = args.port if args.port is not None else gateway_port(settings)
    listener = eventlet.listen((settings.gateway.host, port))
    server = eventlet.spawn(
        eventlet.wsgi.server,
        listener,
        wsgi_app(gateway, settings.gateway.trusted_proxies),
        log=logging.getLogger("orgwork.gateway.access"),
        log_format='%(client_ip)s "%(request_line)s" %(status_code)s %(body_length)s %(wall_seconds).4f',
        socket_timeout=30,
        max_size=1000,
    )
    log.info("gateway: %d routes, listening on http://%s:%d", len(gateway.routes), settings.gateway.host, port)

    def stop(signum: int, frame: Any) -> None:
        log.info("gateway: signal %d received, stopping", signum)
        gateway.stopping = True  # /health/ready answers 503 from now on
        eventlet.spawn_n(server.kill)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.wait()
    except greenlet.GreenletExit:
        pass
    finally:
        if isinstance(gateway.caller, RpcPool):
            gateway.caller.close()
    log.info("gateway: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
