"""``diemcau deploy``: configuration for the standard parts in front of Điểm Cầu (nginx), from the shipped files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diemcau.adapters.nginx_config import DEFAULT_PREFIX, TEMPLATE, NginxConfigError, NginxFront, render
from diemcau.adapters.storage import stores_of
from diemcau.apps.cli.common import fail, settings_or_exit

app = typer.Typer(help="Configuration for what runs in front of Điểm Cầu (nginx).", no_args_is_help=True)


@app.command("nginx-config")
def nginx_config(
    api: Annotated[list[str], typer.Option("--api", help="An API replica, host:port (repeat for each).")],
    hub_proxy: Annotated[str, typer.Option(help="host:port of the hub's proxy: everything that is not the API.")],
    listen: Annotated[list[str], typer.Option(help="An nginx listen value, e.g. '443 ssl' (repeatable).")],
    media_root: Annotated[
        str | None,
        typer.Option(help="The media folder as nginx sees it (default: this data directory's media folder)."),
    ] = None,
    prefix: Annotated[str, typer.Option(help="The API service's prefix under the hub.")] = DEFAULT_PREFIX,
    resolver: Annotated[
        list[str] | None,
        typer.Option(help="A DNS server: look the --api names up again every 10 s (nginx 1.27.3+; repeatable)."),
    ] = None,
    template: Annotated[Path, typer.Option(help="The template (default: the shipped deploy/nginx/diemcau.conf).")] = (
        TEMPLATE
    ),
) -> None:
    """Print deploy/nginx/diemcau.conf rendered for these replicas and folders (for nginx's conf.d/)."""
    # nginx serves the media store's files itself, so it needs the volume's folder: a local path (only a shared
    # volume has one, adapters/storage.py), as the stores of this data directory name it.
    root = media_root if media_root is not None else str(stores_of(settings_or_exit()).media.root)
    try:
        text = template.read_text("utf-8")
    except OSError as error:
        fail(f"Cannot read the nginx template {template}: {error.strerror}. Pass --template.")
    try:
        typer.echo(
            render(text, NginxFront(tuple(listen), tuple(api), root, hub_proxy, prefix, tuple(resolver or ()))),
            nl=False,
        )
    except NginxConfigError as error:
        fail(str(error))
