"""One configuration story: a TOML settings file validated by a schema, overridable by environment.

Resolution order (later wins):
1. the defaults in the models below;
2. ``$DIEMCAU_HOME/diemcau.toml`` (or the file named by ``$DIEMCAU_CONFIG``);
3. environment variables ``DIEMCAU_<SECTION>__<KEY>`` (e.g. ``DIEMCAU_HUB__PORT=8001``).

``DIEMCAU_HOME`` selects the data directory (default ``./var``). Everything the platform writes lives there
by default, the content folders included (``<home>/courses``, ``<home>/transcripts``), so running it from a
source checkout never writes into the checkout. Relative paths in the file are resolved against the data
directory; a content path that is set (``content.courses_dir``, ``content.transcripts_dir``) is resolved
against the working directory, so a deployment can keep its content in git beside its settings.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from diemcau.core.system_user import PREFIX_PATTERN

ENV_PREFIX = "DIEMCAU_"
SETTINGS_FILE_NAME = "diemcau.toml"


class SettingsError(Exception):
    """A settings file or environment override is wrong; the message says which key and what to do."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = Field("", description="SQLAlchemy URL. Empty: SQLite file 'diemcau.sqlite' in the data directory.")


class ContentSettings(_Section):
    """Where content lives. Unset (``None``): in the data directory; ``build_settings`` fills in the paths."""

    courses_dir: Path | None = Field(
        None,
        description="Trainer-authored course definitions (quiz specs the studio releases are saved here). "
        "Default: <data directory>/courses; set it to keep the content in git.",
    )
    transcripts_dir: Path | None = Field(
        None, description="The transcript store. Default: <data directory>/transcripts."
    )


class HubSettings(_Section):
    ip: str = Field("127.0.0.1", description="Address the public proxy listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the public proxy listens on.")
    hub_port: int = Field(8081, ge=1, le=65535, description="Port of the hub's internal API.")
    proxy_api_port: int = Field(8001, ge=1, le=65535, description="Port of the proxy's own REST API (loopback).")
    api_port: int = Field(8090, ge=1, le=65535, description="Port of the Điểm Cầu API service.")
    api_url: str = Field(
        "",
        pattern=r"^(https?://[A-Za-z0-9.:\[\]-]+)?$",
        description="The API service as the hub's proxy and staff servers reach it. Empty: the hub starts one API "
        "itself on 127.0.0.1:<api_port> (one machine). Set, e.g. http://10.0.0.5:8080 (nginx in front of N API "
        "replicas, deploy/nginx/diemcau.conf): the hub starts none and registers this URL as an external service, "
        "whose token it reads from <data>/hub/api_service_token (docs/deploy-nginx.md).",
    )
    hub_ip: str = Field(
        "127.0.0.1",
        description="Address the hub's internal API listens on: loopback on one machine; an address the API "
        "replicas' hosts reach when they run elsewhere (their JUPYTERHUB_API_URL).",
    )
    run_worker: bool = Field(
        True,
        description="Whether the hub runs the job worker (ingest, transcription, grading) as a service: on one "
        "machine it does; false where worker hosts run `diemcau worker` themselves (docs/cluster.md).",
    )
    authenticator: Literal["roster", "ldap", "oauth"] = Field(
        "roster", description="'roster' (built in); 'ldap'/'oauth' load hub_config/jupyterhub_config.d/*.py."
    )
    cull_idle_seconds: int = Field(3600, ge=60, description="Stop idle single-user servers after this long.")
    homes_dir: Path = Field(
        Path("/home"), description="Absolute folder of the staff servers' system users' homes (each 0700, its own)."
    )
    system_user_prefix: str = Field(
        "jupyter-", pattern=PREFIX_PATTERN, description="Staff server N runs as the system user '<prefix>N'."
    )

    @field_validator("hub_ip")
    @classmethod
    def _hub_ip_is_an_address(cls, value: str) -> str:
        ipaddress.ip_address(value)  # ValueError names the bad value
        return value

    @field_validator("homes_dir")
    @classmethod
    def _homes_dir_is_absolute(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError("must be an absolute path, e.g. /home")
        return value


class AuthSettings(_Section):
    """Login throttling (docs/security/login.md): failures make the next attempt wait, doubling from 2 s up to a cap;
    nothing locks a member out."""

    free_failures: int = Field(
        5, ge=1, le=100, description="Failed attempts on one account from one address before that address waits."
    )
    account_free_failures: int = Field(
        30, ge=1, le=1000, description="Failed attempts on one account from all addresses before every attempt waits."
    )
    address_free_failures: int = Field(
        20, ge=1, le=10000, description="Failed attempts from one address, on any accounts, before it waits."
    )
    max_wait_seconds: int = Field(
        60, ge=1, le=3600, description="Longest wait an account's throttle imposes: how long the member may wait."
    )
    address_max_wait_seconds: int = Field(600, ge=1, le=86400, description="Longest wait of one address's throttle.")
    forget_after_minutes: int = Field(
        60, ge=1, le=10080, description="Failures are forgotten this long after the last one."
    )
    trusted_proxies: list[str] = Field(
        ["127.0.0.1", "::1"],
        description="Proxies whose X-Forwarded-For is believed (addresses or networks); the "
        "client is the right-most address not among them. Default: configurable-http-proxy on loopback.",
    )
    activation_code_days: int = Field(14, ge=1, description="How long an activation code stays valid.")
    min_password_length: int = Field(8, ge=6, description="Shortest password a member may choose.")
    argon2_time_cost: int = Field(
        3,
        ge=1,
        description="Argon2id passes over memory when hashing passwords and activation codes. The defaults "
        "of argon2_* are RFC 9106's low-memory profile (t=3, m=64 MiB, p=4); operators tune them to their hardware, "
        "not below OWASP's minimum (t=2, m=19456 KiB, p=1): lower values are for tests only.",
    )
    argon2_memory_kib: int = Field(65536, ge=8, description="Argon2id memory per hash, in KiB (see argon2_time_cost).")
    argon2_parallelism: int = Field(4, ge=1, description="Argon2id lanes per hash (see argon2_time_cost).")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_from_a_string(cls, value: Any) -> Any:
        # DIEMCAU_AUTH__TRUSTED_PROXIES="127.0.0.1,10.0.0.5": the environment can only give a string.
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _forgetting_outlasts_waits(self) -> AuthSettings:
        if self.forget_after_minutes * 60 <= max(self.max_wait_seconds, self.address_max_wait_seconds):
            raise ValueError("forget_after_minutes must be longer than max_wait_seconds and address_max_wait_seconds")
        return self


class JobsSettings(_Section):
    backend: Literal["sqlite", "redis"] = Field(
        "sqlite", description="Queue storage: 'sqlite' in the data directory (one machine), 'redis' to scale out."
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis URL when backend = 'redis': redis://[:password@]host[:port][/db], rediss:// for TLS, "
        "unix:///path. See docs/architecture.md, 'The job queue on Redis'.",
    )
    queue_name: str = Field(
        "diemcau",
        pattern=r"^[A-Za-z0-9_]{1,64}$",
        description="The queue's name in its storage (Redis keys huey.*.<name>): deployments sharing one Redis "
        "database need different names.",
    )
    workers: int = Field(1, ge=1, le=64, description="Worker threads of `diemcau worker` (ingest, transcription).")
    retries: int = Field(2, ge=0, le=10, description="Retries of a job after a transient failure.")
    lease_seconds: float = Field(
        30.0,
        gt=0,
        description="A job's lease (transcription, quiz grading) expires this long after its holder's "
        "last renewal; another worker then takes it over. Renewed every third of this. See docs/architecture.md.",
    )
    recovery_seconds: float = Field(
        60.0,
        gt=0,
        description="How often a worker sweeps for jobs whose holder is gone (ingest runs, "
        "transcriptions, ungraded quiz submissions) and queues them again.",
    )
    host_name: str = Field("", description="This machine's name in job leases (empty: its host name).")

    @field_validator("redis_url")
    @classmethod
    def _is_a_redis_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must start with redis://, rediss:// (TLS) or unix://")
        if parts.scheme == "unix":
            if not parts.path:
                raise ValueError("needs the socket's path: unix:///run/redis/redis.sock")
            return value
        if not parts.hostname:
            raise ValueError("needs a host: redis://[:password@]host[:port][/db]")
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
        if parts.path.strip("/") and not parts.path.strip("/").isdigit():
            raise ValueError("names its database by number: redis://host:6379/0")
        return value


class MediaSettings(_Section):
    max_duration_seconds: int = Field(4 * 3600, ge=1, description="Longest lecture accepted (seconds).")
    max_size_mb: int = Field(4096, ge=1, description="Largest source file accepted (MiB), file or download.")
    video_preset: str = Field("veryfast", description="x264 preset of the video ladder (speed against size).")
    stale_after_seconds: int = Field(
        30, ge=5, description="An ingest whose worker has not reported for this long is taken over by another."
    )
    retry_delay_seconds: int = Field(5, ge=0, description="Wait before retrying an ingest, times the attempt number.")
    fetch_private_networks: bool = Field(
        False,
        description="Let publish-by-URL reach loopback and private networks (an intranet media server); "
        "cloud metadata addresses stay closed. See docs/security/ssrf.md.",
    )


class QuizSettings(_Section):
    gradebook_url: str = Field(
        "",
        description="nbgrader gradebook URL, one database per course: must contain '{course}'. Empty: a SQLite "
        "file per course, <data>/nbgrader/<course>/gradebook.db. PostgreSQL when scaled out, e.g. "
        "'postgresql+psycopg://u:p@host/gradebook_{course}' (the database is created if missing).",
    )
    essay_categories: dict[str, float] = Field(
        {"Xuất sắc": 100.0, "Tốt": 80.0, "Đạt": 50.0, "Không đạt": 0.0},
        description="Grades a secretary gives a bài thu hoạch, best first, each with its share of the points (%).",
    )

    @field_validator("gradebook_url")
    @classmethod
    def _has_course_placeholder(cls, value: str) -> str:
        if value and "{course}" not in value:
            raise ValueError("must contain '{course}' (one gradebook database per course)")
        return value

    @field_validator("essay_categories")
    @classmethod
    def _shares_are_percent(cls, value: dict[str, float]) -> dict[str, float]:
        if not value or any(not 0 <= share <= 100 for share in value.values()):
            raise ValueError("needs at least one category, each with a share between 0 and 100")
        return value


class SearchSettings(_Section):
    backend: Literal["auto", "sqlite", "postgres"] = Field(
        "auto", description="Search index: 'sqlite' (FTS5 file), 'postgres' (the app database); 'auto' follows it."
    )
    sqlite_path: Path = Field(Path("search.sqlite"), description="The SQLite index file, relative to the data dir.")


class TranscriptionSettings(_Section):
    model: str = Field(
        "",
        description="A CTranslate2 Whisper model folder (large-v3, a PhoWhisper conversion ...). Empty: the "
        "bundled multilingual base, assembled once into <data>/models/whisper-base.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="'auto': CUDA when a GPU is present, else CPU.")
    compute_type: str = Field("auto", description="'auto': float16 on CUDA, int8 on CPU; or any CTranslate2 type.")
    cpu_threads: int = Field(0, ge=0, le=256, description="Threads on CPU; 0 = one per core.")
    batch_size: int = Field(
        0,
        ge=0,
        le=64,
        description="Windows decoded together (BatchedInferencePipeline) if > 1; 0 = auto: "
        "8 on a GPU (CUDA), 1 on CPU, where batching gains nothing.",
    )
    beam_size: int = Field(5, ge=1, le=16, description="Beam search width.")
    temperature: float = Field(0.0, ge=0, le=1, description="0: deterministic; no temperature fallback is used.")
    condition_on_previous_text: bool = Field(False, description="False: no repetition loops carried across windows.")
    no_repeat_ngram_size: int = Field(3, ge=0, le=10, description="Forbid repeating n-grams (0 = off).")
    no_speech_threshold: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Skip a window whose no-speech probability exceeds this; 1.0 = never (VAD decides).",
    )
    glossary_prompt: bool = Field(
        False,
        description="Steer Party terms with the glossary (<courses folder>/glossary.txt, else the shipped "
        "one) as initial prompt (see docs/transcription.md).",
    )
    document_vocabulary: bool = Field(
        False,
        description="Bias decoding (faster-whisper hotwords) with the lecture's vocabulary: the glossary and the "
        "terms, names and numbered resolutions of its materials (see docs/transcription.md, issue 18).",
    )
    document_alignment: bool = Field(
        True,
        description="After transcribing, put the exact words of the lecture's materials over the stretches that "
        "quote them, as system corrections (reversible; never over a trainer's; docs/transcription.md, issue 18).",
    )
    vad_threshold: float = Field(0.5, gt=0, lt=1, description="Silero VAD speech probability threshold.")
    vad_min_silence_ms: int = Field(
        300, ge=100, description="Silence that ends a stretch of speech (ms); short, so windows fill up to 30 s."
    )
    window_seconds: float = Field(30.0, ge=5, le=30, description="Longest decoding window, the unit of checkpoints.")


class PlayerSettings(_Section):
    hls_js: str = Field(
        "",
        description="The hls.js build the player serves. Empty: node_modules/hls.js/dist/hls.light.min.js of the "
        "source tree (scripts/ensure_node.sh installs it from package.json).",
    )
    heartbeat_seconds: int = Field(15, ge=5, le=120, description="How often the player reports progress while playing.")
    offline_material_max_bytes: int = Field(
        1_500_000,
        ge=0,
        description="Most bytes of materials stored with one lecture for offline study, all together: taken in the "
        "list's order while they fit, so a one-hour package stays within 12 MB; the rest (a scanned PDF) is left "
        "out, with a note in the player's list, and downloads online as before.",
    )


class MaterialsSettings(_Section):
    max_bytes: int = Field(
        50 * 1024 * 1024, ge=1, description="Largest material (PDF, DOCX, PPTX) a trainer may attach, in bytes."
    )
    max_unpacked_bytes: int = Field(
        512 * 1024 * 1024, ge=1, description="Largest total a DOCX/PPTX package may unpack to (refuses zip bombs)."
    )
    extract_memory_mb: int = Field(
        1024,
        ge=128,
        le=65536,
        description="Address space (MiB) of the child process that reads a material's text; "
        "a document that needs more is kept for download but not searchable.",
    )
    extract_seconds: int = Field(
        120,
        ge=1,
        le=3600,
        description="CPU seconds the child process that reads a material's text may use (and "
        "twice that in wall-clock time); past it, as past the memory bound.",
    )


class ReportsSettings(_Section):
    """The official report's PDF signature (docs/reports.md)."""

    certificates_dir: Path = Field(
        Path("signing"),
        description="Folder of signing certificates: '<org unit code>.p12' (PKCS#12) signs that "
        "unit's PDF reports, its passphrase in '<org unit code>.pass' beside it (absent: none). A unit without its "
        "own file gets an unsigned PDF. Relative: inside the data directory.",
    )


class PerfSettings(_Section):
    caller_seconds: float = Field(
        60.0,
        ge=0,
        le=300,
        description="API processes keep each resolved caller (member, unit, grants) this long: a "
        "revoked grant or a deactivated member takes effect within it (the hub keeps token checks 60 s too). Longer "
        "than the player's heartbeat, or every heartbeat misses. 0 = off.",
    )
    lecture_seconds: float = Field(
        60.0,
        ge=0,
        le=300,
        description="API processes keep the visibility facts (the courses' audiences, each "
        "published lecture's course, status and duration) this long, in one cache per app that every route, page, "
        "media request and search asks: a withdrawn lecture or a changed audience takes effect everywhere within "
        "it. 0 = off.",
    )
    max_entries: int = Field(20_000, ge=0, description="Most entries each of those caches holds per API process.")
    api_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Processes serving the API service (uvicorn workers on one port). One process "
        "uses one core: with several cores, 2 or more take more progress posts at lower latency (docs/benchmarks.md); "
        "on SQLite their writes queue for the one write lock, on PostgreSQL they do not.",
    )
    group_commit: bool = Field(
        True,
        description="Progress events from concurrent requests share one transaction (one commit, one fsync); "
        "each request is answered only after that commit.",
    )
    group_commit_max: int = Field(256, ge=1, le=10_000, description="Most requests one shared progress commit carries.")
    gather_ms: float = Field(
        4.0,
        ge=0,
        le=100,
        description="How long the API gathers concurrent work into one database round: while "
        "progress posts arrive back to back the shared commit waits this long after the first for more (an isolated "
        "post is never held), and cache misses wait this long for others to read with (a round per request costs a "
        "few times the CPU under load). 0 = never wait.",
    )
    gather_max_ms: float = Field(
        60.0,
        ge=0,
        le=1000,
        description="The longest a shared progress commit waits for more posts when they arrive steadily but "
        "slowly (an API replica among many: tens a second): long enough for about four more, at least gather_ms; "
        "a post after a quiet spell is never held. Fewer, larger commits for tens of milliseconds more on answers "
        'nobody watches (the player\'s background heartbeats; docs/benchmarks.md, "Scale-out").',
    )
    fast_progress: bool = Field(
        True,
        description="A player's progress post (POST …/api/lectures/{id}/progress) is served ahead of FastAPI's "
        "routing and dependency solving, with the same checks and the same answers; off = through FastAPI like every "
        "other route.",
    )


class Settings(_Section):
    """All settings. ``home`` is the data directory; the other paths derive from it."""

    home: Path = Path("var")
    database: DatabaseSettings = DatabaseSettings()
    content: ContentSettings = ContentSettings()
    hub: HubSettings = HubSettings()
    auth: AuthSettings = AuthSettings()
    jobs: JobsSettings = JobsSettings()
    search: SearchSettings = SearchSettings()
    quiz: QuizSettings = QuizSettings()
    media: MediaSettings = MediaSettings()
    transcription: TranscriptionSettings = TranscriptionSettings()
    player: PlayerSettings = PlayerSettings()
    materials: MaterialsSettings = MaterialsSettings()
    reports: ReportsSettings = ReportsSettings()
    perf: PerfSettings = PerfSettings()

    @property
    def database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        return self.database.url or f"sqlite:///{self.home / 'diemcau.sqlite'}"

    @property
    def courses_dir(self) -> Path:
        """The courses folder: ``content.courses_dir``, by default ``<home>/courses``."""
        return self.content.courses_dir or self.home / "courses"

    @property
    def transcripts_dir(self) -> Path:
        """The transcript store: ``content.transcripts_dir``, by default ``<home>/transcripts``."""
        return self.content.transcripts_dir or self.home / "transcripts"

    @property
    def hub_dir(self) -> Path:
        """Runtime state of JupyterHub (its SQLite, cookie secret, users' homes)."""
        return self.home / "hub"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def materials_dir(self) -> Path:
        """Lecture materials (``adapters/material_files.py``): ``<home>/materials``."""
        return self.home / "materials"

    @property
    def nbgrader_dir(self) -> Path:
        return self.home / "nbgrader"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def certificates_dir(self) -> Path:
        """The signing certificates' folder (``reports.certificates_dir``, resolved against the data directory)."""
        return self.home / self.reports.certificates_dir


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
    given = error.get("input")
    given = hide_password(given) if isinstance(given, str) else given
    return f"{source}: '{key}' {error['msg'].lower()} (got {given!r}). Fix the value and try again."


def hide_password(url: str) -> str:
    """``url`` without its password (``redis://:***@host/0``), fit for messages and logs; other text unchanged."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:
        return url
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}"))


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
    home = home.absolute()
    content = settings.content.model_copy(
        update={
            "courses_dir": (settings.content.courses_dir or home / "courses").absolute(),
            "transcripts_dir": (settings.content.transcripts_dir or home / "transcripts").absolute(),
        }
    )
    return settings.model_copy(update={"home": home, "content": content})


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
