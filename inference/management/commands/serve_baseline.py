import argparse
import errno
import logging
import signal
import sys
import threading

from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError
from inference.baseline.server import make_server


def status_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated HTTP statuses like 429,424,500, got {text!r}"
        ) from None


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (docker stop, systemd) stops as cleanly as Ctrl-C


class Command(ElmtexCommand):
    help = (
        "Serve the rule-based baseline extractor over TGI's HTTP protocol (/, /generate, /generate_stream, "
        "/v1/chat/completions, /info, /health, /tokenize, /metrics), with knobs that inject the faults of a "
        "real deployment. Runs until Ctrl-C."
    )
    requires_system_checks = []  # serves no Django state
    uses_database = False

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
        parser.add_argument("--latency-ms", type=int, default=0, help="added latency per generation request")
        parser.add_argument(
            "--max-concurrent",
            type=int,
            default=128,
            help="generation requests in flight before 429 'Model is overloaded' (default 128)",
        )
        parser.add_argument("--fail-rate", type=float, default=0.0, help="share of requests that fail (0-1)")
        parser.add_argument(
            "--fail-status",
            type=status_list,
            default=(429, 424, 500),
            metavar="LIST",
            help="statuses a failing request gets, picked at random (default 429,424,500)",
        )
        parser.add_argument(
            "--timeout-rate", type=float, default=0.0, help="share of requests held far past any client timeout"
        )
        parser.add_argument("--garbage-rate", type=float, default=0.0, help="share of answers that are not JSON")
        parser.add_argument(
            "--truncate-rate", type=float, default=0.0, help="share of answers cut short (finish_reason length)"
        )
        parser.add_argument(
            "--startup-delay", type=float, default=0.0, help="seconds before the port opens (like TGI loading)"
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the fault injection")
        parser.add_argument("--model-id", default="elmtex/rule-baseline", help="model id reported by /info")
        parser.add_argument("--max-input-tokens", type=int, default=8192, help="prompt token limit (default 8192)")
        parser.add_argument(
            "--max-total-tokens", type=int, default=12288, help="prompt + new token limit (default 12288)"
        )
        parser.add_argument(
            "--timeout-hold", type=float, default=900.0, help="seconds a --timeout-rate request is held (default 900)"
        )

    def handle(self, *args, **opts):
        host, port, delay = opts["host"], opts["port"], opts["startup_delay"]
        if delay > 0 and port == 0:
            raise ApplicationError("--port 0 (any free port) cannot be combined with --startup-delay; name a port")
        knobs = {
            "latency_ms": opts["latency_ms"],
            "max_concurrent": opts["max_concurrent"],
            "fail_rate": opts["fail_rate"],
            "fail_status": opts["fail_status"],
            "timeout_rate": opts["timeout_rate"],
            "garbage_rate": opts["garbage_rate"],
            "truncate_rate": opts["truncate_rate"],
            "startup_delay": delay,
            "seed": opts["seed"],
            "model_id": opts["model_id"],
            "max_input_tokens": opts["max_input_tokens"],
            "max_total_tokens": opts["max_total_tokens"],
            "hold_s": opts["timeout_hold"],
        }
        if opts["verbosity"] >= 2:
            logging.getLogger("elmtex.baseline").setLevel(logging.DEBUG)
        try:
            server = make_server(host, port, **knobs)
        except ValueError as exc:
            raise ApplicationError(f"--{exc}") from None
        except OSError as exc:
            raise ApplicationError(self._bind_error(exc, host, port)) from None
        if threading.current_thread() is threading.main_thread():
            # Also when started in the background, where a shell leaves SIGINT ignored.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, _interrupt)
        url = f"http://{host}:{server.server_address[1] if delay <= 0 else port}"
        loading = f"; loading, the port opens in {delay:g} s" if delay > 0 else ""
        sys.stderr.write(f"baseline TGI server on {url} (model {knobs['model_id']}){loading}\n")
        sys.stderr.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            sys.stderr.write("baseline TGI server stopped\n")
        except OSError as exc:  # binding after --startup-delay
            raise ApplicationError(self._bind_error(exc, host, port)) from None
        finally:
            server.stopping.set()
            server.server_close()

    @staticmethod
    def _bind_error(exc: OSError, host: str, port: int) -> str:
        if exc.errno == errno.EADDRINUSE:
            return f"port {port} on {host} is already in use; stop the other server or choose another --port"
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}; check --host and --port"
