"""`kimi-conformance demo`: start the embedded mock and show real requests against it."""

from __future__ import annotations

import json

import click
import httpx

from kimi_conformance.mock.config import DEFAULT_API_KEY, MockConfig
from kimi_conformance.mock.server import serve_in_thread


@click.command()
@click.option("--model", default="kimi-k2.6", show_default=True, help="Model to ask (any the rules table knows).")
@click.option("--prompt", default="Say hello to the conformance suite.", show_default=True)
def demo(model: str, prompt: str) -> None:
    """Start the embedded mock on a free loopback port and send it a completion and a streamed completion."""
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    request = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_completion_tokens": 200}
    with (
        serve_in_thread(MockConfig(lineup="all")) as server,
        httpx.Client(base_url=server.api_base, headers=headers, timeout=10) as client,
    ):
        click.echo(f"mock listening on {server.api_base}\n")
        click.echo(f"POST /v1/chat/completions {json.dumps(request)}")
        response = client.post("/chat/completions", json=request)
        click.echo(f"<- {response.status_code} {response.headers['content-type']}")
        click.echo(json.dumps(response.json(), indent=2, ensure_ascii=False) + "\n")
        click.echo(f"POST /v1/chat/completions (stream) {json.dumps({**request, 'stream': True})}")
        with client.stream("POST", "/chat/completions", json={**request, "stream": True}) as stream:
            click.echo(f"<- {stream.status_code} {stream.headers['content-type']}")
            for raw in stream.iter_raw():
                click.echo(raw.decode("utf-8", errors="replace"), nl=False)
