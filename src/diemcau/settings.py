"""One configuration story: a TOML settings file validated by a schema, overridable by environment.

Resolution order (later wins):
1. the defaults in the models below;
2. ``$DIEMCAU_HOME/diemcau.toml`` (or the file named by ``$DIEMCAU_CONFIG``);
3. environment variables ``DIEMCAU_<SECTION>__<KEY>`` (e.g. ``DIEMCAU_HUB__PORT=8001``).

``DIEMCAU_HOME`` selects the data directory (default ``./var``). Relative paths in the file are
resolved against the data directory; relative content paths (``courses``, ``transcripts``) against
the working directory, so a deployment can keep its content in git beside its settings.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_PREFIX = "DIEMCAU_"
SETTINGS_FILE_NAME = "diemcau.toml"


class SettingsError(Exception):
    """A settings file or environment override is wrong; the message says which key and what to do."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = Field("", description="SQLAlchemy URL. Empty: SQLite file 'diemcau.sqlite' in the data directory.")


class ContentSettings(_Section):
    courses_dir: Path = Field(Path("courses"), description="Trainer-authored course definitions.")
    transcripts_dir: Path = Field(Path("transcripts"), description="The transcript store.")


class HubSettings(_Section):
    ip: str = Field("127.0.0.1", description="Address the public proxy listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the public proxy listens on.")
    hub_port: int = Field(8081, ge=1, le=65535, description="Port of the hub's internal API.")
    proxy_api_port: int = Field(8001, ge=1, le=65535, description="Port of the proxy's own REST API (loopback).")
    api_port: int = Field(8090, ge=1, le=65535, description="Port of the Điểm Cầu API service.")
    authenticator: Literal["roster", "ldap", "oauth"] = Field(
        "roster", description="'roster' (built in); 'ldap'/'oauth' load hub_config/jupyterhub_config.d/*.py."
    )
    cull_idle_seconds: int = Field(3600, ge=60, description="Stop idle single-user servers after this long.")


class AuthSettings(_Section):
    max_failed_logins: int = Field(5, ge=1, description="Failed logins in a row before the account locks.")
    lockout_minutes: int = Field(15, ge=1, description="How long a locked account stays locked.")
    activation_code_days: int = Field(14, ge=1, description="How long an activation code stays valid.")
    min_password_length: int = Field(8, ge=6, description="Shortest password a member may choose.")


class JobsSettings(_Section):
    backend: Literal["sqlite", "redis"] = Field(
        "sqlite", description="Queue storage: 'sqlite' in the data directory (one machine), 'redis' to scale out."
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL when backend = 'redis'.")
    workers: int = Field(1, ge=1, le=64, description="Worker threads of `diemcau worker` (ingest, transcription).")
    retries: int = Field(2, ge=0, le=10, description="Retries of a job after a transient failure.")


class Settings(_Section):
    """All settings. ``home`` is the data directory; the other paths derive from it."""

    home: Path = Path("var")
    database: DatabaseSettings = DatabaseSettings()
    content: ContentSettings = ContentSettings()
    hub: HubSettings = HubSettings()
    auth: AuthSettings = AuthSettings()
    jobs: JobsSettings = JobsSettings()

    @property
    def database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        return self.database.url or f"sqlite:///{self.home / 'diemcau.sqlite'}"

    @property
    def courses_dir(self) -> Path:
        return self.content.courses_dir

    @property
    def transcripts_dir(self) -> Path:
        return self.content.transcripts_dir

    @property
    def hub_dir(self) -> Path:
        """Runtime state of JupyterHub (its SQLite, cookie secret, users' homes)."""
        return self.home / "hub"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def nbgrader_dir(self) -> Path:
        return self.home / "nbgrader"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"


def _set_path(tree: dict[str, Any], dotted: list[str], value: str) -> None:
    node = tree
    for key in dotted[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise SettingsError(f"Environment override sets '{'.'.join(dotted)}' under a non-table key.")
    node[dotted[-1]] = value


def env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """Turn ``DIEMCAU_SECTION__KEY=value`` variables into a nested dict (pure)."""
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        dotted = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        _set_path(tree, dotted, value)
    return tree


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: dict[str, Any], source: str) -> str:
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        known = ", ".join(_known_keys(error["loc"][:-1]))
        return f"{source}: unknown key '{key}'. Remove it or use one of: {known}."
    return f"{source}: '{key}' {error['msg'].lower()} (got {error.get('input')!r}). Fix the value and try again."


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Settings
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None or not isinstance(field.annotation, type) or not issubclass(field.annotation, BaseModel):
            return sorted(model.model_fields)
        model = field.annotation
    return sorted(model.model_fields)


def build_settings(file_data: dict[str, Any], environ: dict[str, str], home: Path, source: str) -> Settings:
    """Validate settings from file data and environment overrides (pure, no I/O)."""
    data = _merge(file_data, env_overrides(environ))
    data["home"] = home
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError("\n".join(_describe(e, source) for e in exc.errors())) from None
    content = settings.content.model_copy(
        update={
            "courses_dir": settings.content.courses_dir.absolute(),
            "transcripts_dir": settings.content.transcripts_dir.absolute(),
        }
    )
    return settings.model_copy(update={"home": home.absolute(), "content": content})


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings file and environment into validated settings."""
    environ = dict(os.environ if environ is None else environ)
    home = Path(environ.get("DIEMCAU_HOME", "var"))
    path = Path(environ.get("DIEMCAU_CONFIG", home / SETTINGS_FILE_NAME))
    file_data: dict[str, Any] = {}
    if path.exists():
        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc}). Fix the syntax, or delete the file to use defaults.")
    return build_settings(file_data, environ, home, str(path))
