from elmtex_site.cli import ElmtexCommand
from inference.models import EndpointMode
from inference.services.endpoints import endpoint_add


class Command(ElmtexCommand):
    help = "Register (or update) a TGI server under a name, after reading its /info."

    def add_arguments(self, parser):
        parser.add_argument("name", help="endpoint name: letters, digits, '-' and '_'")
        parser.add_argument("--url", required=True, help="the server's base URL, e.g. http://127.0.0.1:8080")
        parser.add_argument("--model-id", default=None, help="model id (default: the one /info reports)")
        parser.add_argument("--mode", default=None, choices=EndpointMode.values, help="request style (default chat)")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="requests in flight at most (default: 80%% of /info's max_concurrent_requests)",
        )
        parser.add_argument(
            "--tokenizer",
            default=None,
            help="local tokenizer folder with a chat template: generate-mode prompts are built with it",
        )

    def handle(self, *args, **opts):
        endpoint, created = endpoint_add(
            name=opts["name"],
            url=opts["url"],
            model_id=opts["model_id"],
            mode=opts["mode"],
            concurrency=opts["concurrency"],
            tokenizer_path=opts["tokenizer"],
        )
        self.stdout.write(
            f"endpoint {endpoint.name} {'added' if created else 'updated'}: model {endpoint.model_id}, "
            f"concurrency {endpoint.concurrency}, mode {endpoint.mode}"
            + (f", chat template from {endpoint.tokenizer_path}" if endpoint.tokenizer_path else "")
        )
        if endpoint.tokenizer_path and endpoint.mode != EndpointMode.GENERATE:
            self.stderr.write("note: the tokenizer's chat template is used in generate mode only (--mode generate)")
