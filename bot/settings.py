"""One typed Settings object from config.yaml (and secrets from the environment); bad config names its key."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from bot.channels import limits
from bot.config_problems import from_pydantic, tell
from handlers.catalog import LANGUAGES, Catalog
from handlers.community import Community
from handlers.community_checks import Problem
from handlers.errors import DoorstepError


class ConfigError(DoorstepError):
    """config.yaml cannot be used; `problems` are one line each, in the community's language."""

    def __init__(self, path: Path, problems: list[str], lang: str = "zh-CN") -> None:
        self.path, self.problems, self.lang = path, problems, lang
        super().__init__(f"{path}: " + "; ".join(problems))

    def explain(self) -> str:
        """A message for the person starting the bot: one line for one problem, else a line for each."""
        catalog = Catalog.load()
        if len(self.problems) == 1:
            return catalog.text(self.lang, "config.single", path=self.path, problem=self.problems[0])
        head = catalog.text(self.lang, "config.header", path=self.path, count=len(self.problems))
        return head + "".join(f"\n  - {p}" for p in self.problems)


class ConsoleSettings(BaseModel):
    """The terminal chat simulator."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    dev: bool = False
    speaker: str = "王阿姨"
    chat: str | None = None


class TelegramSettings(BaseModel):
    """Telegram: runs when enabled here and TELEGRAM_BOT_TOKEN is set; long polling unless webhook_url is given."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    base_url: str | None = None          # a local Bot API server; None for api.telegram.org
    poll_interval: float = 0.0
    poll_timeout: float = 10.0
    per_chat_gap: float = Field(limits.TELEGRAM_PRIVATE_GAP, ge=0)  # seconds between two messages to one person
    per_group_gap: float = Field(limits.TELEGRAM_GROUP_GAP, ge=0)   # to one group (Telegram: 20 a minute)
    webhook_url: str | None = None       # public https URL; its secret comes from TELEGRAM_WEBHOOK_SECRET
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    retry_first: float = Field(2.0, gt=0)  # first wait before trying an unreachable Telegram again; doubles
    retry_max: float = Field(60.0, gt=0)


class WeChatSettings(BaseModel):
    """WeChat through a Wechaty puppet service gateway: runs when enabled here and the gateway env vars are set.

    WeChat restricts accounts that send fast, so sending is paced far more gently than on Telegram.
    """

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    per_chat_gap: float = Field(3.0, ge=0)     # seconds between two messages to one chat
    per_minute: int = Field(20, ge=1)          # messages per minute over all chats
    max_length: int = Field(limits.WECHAT_MAX_LENGTH, ge=300)  # characters a message may have; longer are cut
    login_timeout: float = Field(60.0, gt=0)   # seconds to wait for the account to log in after connecting
    accept_friends: bool = True                # accept friend requests, so residents can get private messages
    retry_first: float = Field(2.0, gt=0)      # first wait before reconnecting; doubles up to retry_max
    retry_max: float = Field(60.0, gt=0)
    report_after: int = Field(5, ge=1)         # failed connections in a row before an error is logged


class ChannelSettings(BaseModel):
    """Which channels run, and their non-secret options."""

    model_config = ConfigDict(extra="forbid")  # a misspelt channel (telgram:) must not be silently left off
    console: ConsoleSettings = ConsoleSettings()
    telegram: TelegramSettings = TelegramSettings()
    wechat: WeChatSettings = WeChatSettings()


class WebSettings(BaseModel):
    """The web workbench (bot/web): served by the bot's own process when enabled.

    It listens on 127.0.0.1 unless told otherwise: put nginx with HTTPS in front of it (README, "The web
    workbench"). Sign-in links are built on `public_url`; the key that signs links and cookies comes from
    DOORSTEP_WEB_SECRET (a random one per start when unset: links and sessions then end with the process).
    """

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    session_hours: float = Field(8.0, gt=0)    # a signed-in browser stays signed in this long
    secure_cookie: bool = False                # set true behind HTTPS: the cookie then never travels in clear
    links_per_hour: int = Field(5, ge=1)       # sign-in links one person may ask for in an hour
    photo_cache_mb: float = Field(24, ge=0)    # photos fetched from the chats, kept in memory for reloads (0: none)


class Settings(BaseModel):
    """Everything the process needs to start."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    community: Community
    channels: ChannelSettings = ChannelSettings()
    web: WebSettings = WebSettings()
    database_url: str
    spool_path: Path = Path("doorstep-spool.jsonl")  # messages kept while the database cannot take them
    env: dict[str, str] = Field(default_factory=dict)
    open311: Open311Settings = Field(default_factory=lambda: Open311Settings())

    @classmethod
    def load(cls, path: str | Path = "config.yaml", env: dict[str, str] | None = None) -> Settings:
        """Read and check config.yaml; raise ConfigError naming every bad key."""
        path = Path(path)
        env = dict(os.environ if env is None else env)
        catalog = Catalog.load()
        try:
            data = yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader) or {}
        except FileNotFoundError:
            raise _failed(catalog, path, "file_missing") from None
        except (OSError, UnicodeDecodeError) as error:  # a directory, no permission, not UTF-8
            raise _failed(catalog, path, "unreadable", error=_one_line(error)) from None
        except yaml.YAMLError as error:
            raise _failed(catalog, path, "not_yaml", error=_one_line(error)) from None
        if not isinstance(data, dict):
            raise _failed(catalog, path, "not_mapping")
        info = data.get("community")
        lang = info.get("language") if isinstance(info, dict) and info.get("language") in LANGUAGES else "zh-CN"
        channels = data.pop("channels", {}) or {}
        database = data.pop("database", {}) or {}
        web = data.pop("web", {}) or {}
        open311 = data.pop("open311", {}) or {}
        found: list[Problem] = []
        community = _validated(Community, data, data, (), found)
        channel_settings = _validated(ChannelSettings, channels, data, ("channels",), found)
        web_settings = _validated(WebSettings, web, data, ("web",), found)
        open311_settings = _validated(Open311Settings, open311, data, ("open311",), found)
        found += [Problem("database", None, str(key), "unknown_key", {"known": "path, spool"}) for key in database
                  if key not in ("path", "spool")]
        if community and channel_settings and channel_settings.console.chat:  # where the console starts
            names = [c.console for c in community.chats if c.console]
            if channel_settings.console.chat not in names:
                found.append(Problem("channels", None, "console.chat", "unknown_chat",
                                     {"value": channel_settings.console.chat, "known": "、".join(names)}))
        if found:
            raise ConfigError(path, [tell(catalog, lang, p) for p in found], lang)
        db_file = (path.parent / database.get("path", "doorstep.db")).resolve()
        url = env.get("DATABASE_URL") or f"sqlite:///{db_file}"
        spool = (path.parent / database.get("spool", "doorstep-spool.jsonl")).resolve()
        return cls(community=community, channels=channel_settings, web=web_settings, database_url=url,
                   spool_path=spool, env=env, open311=open311_settings)


def _validated(model: type[BaseModel], part: Any, data: dict, prefix: tuple[str, ...], found: list[Problem]):
    try:
        return model.model_validate(part)
    except ValidationError as error:
        found.extend(from_pydantic(error, data, prefix))
        return None


def _failed(catalog: Catalog, path: Path, what: str, **params: str) -> ConfigError:
    """The file itself cannot be read: nothing tells the community's language yet."""
    return ConfigError(path, [catalog.text(None, f"config.problem.{what}", **params)])


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class Open311Client(BaseModel):
    """A client of the Open311 API (the citizen hotline, the street office's platform) and its API key."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    client: str = Field(min_length=1)             # who files: the reporter of what it files
    key: str | None = Field(None, min_length=16)  # the key itself; better kept out of the file with key_env
    key_env: str | None = None                    # the environment variable holding the key

    @model_validator(mode="after")
    def _one_key(self) -> Open311Client:
        if (self.key is None) == (self.key_env is None):
            raise PydanticCustomError("open311_key", "give key or key_env, not both")
        return self


class Open311Settings(BaseModel):
    """The Open311 GeoReport v2 API at /open311/v2: who may file requests, and the jurisdiction it answers for."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    jurisdiction_id: str | None = None  # where given, a request naming another jurisdiction is refused
    api_keys: list[Open311Client] = Field(default_factory=list)

    def clients(self, env: dict[str, str]) -> dict[str, str]:
        """Each usable key and the client it names; a key_env not set in the environment gives no key."""
        keys = ((c.key if c.key is not None else env.get(c.key_env), c.client) for c in self.api_keys)
        return {key: client for key, client in keys if key}
