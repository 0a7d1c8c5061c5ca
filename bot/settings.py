"""One typed Settings object from config.yaml (and secrets from the environment); bad config names its key."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.channels import limits
from handlers.community import Community
from handlers.errors import DoorstepError


class ConfigError(DoorstepError):
    """config.yaml cannot be used; `problems` lists 'key: what is wrong'."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path, self.problems = path, problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def explain(self) -> str:
        """A message for the person starting the bot."""
        return f"config {self.path} has {len(self.problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)


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

    model_config = ConfigDict(extra="allow")
    console: ConsoleSettings = ConsoleSettings()
    telegram: TelegramSettings = TelegramSettings()
    wechat: WeChatSettings = WeChatSettings()


class Settings(BaseModel):
    """Everything the process needs to start."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    community: Community
    channels: ChannelSettings = ChannelSettings()
    database_url: str
    spool_path: Path = Path("doorstep-spool.jsonl")  # messages kept while the database cannot take them
    env: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path = "config.yaml", env: dict[str, str] | None = None) -> Settings:
        """Read and check config.yaml; raise ConfigError naming every bad key."""
        path = Path(path)
        env = dict(os.environ if env is None else env)
        try:
            data = yaml.safe_load(path.read_text("utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(path, ["file not found"]) from None
        except yaml.YAMLError as error:
            raise ConfigError(path, [f"not valid YAML: {error}"]) from None
        if not isinstance(data, dict):
            raise ConfigError(path, ["the file must be a mapping of keys (community:, members:, …)"])
        channels = data.pop("channels", {}) or {}
        database = data.pop("database", {}) or {}
        problems: list[str] = []
        community = _validated(Community, data, "", problems)
        channel_settings = _validated(ChannelSettings, channels, "channels.", problems)
        problems += [f"database.{key}: unknown key (known: path, spool)" for key in database
                     if key not in ("path", "spool")]
        if problems:
            raise ConfigError(path, problems)
        db_file = (path.parent / database.get("path", "doorstep.db")).resolve()
        url = env.get("DATABASE_URL") or f"sqlite:///{db_file}"
        spool = (path.parent / database.get("spool", "doorstep-spool.jsonl")).resolve()
        return cls(community=community, channels=channel_settings, database_url=url, spool_path=spool, env=env)


def _validated(model: type[BaseModel], data: Any, prefix: str, problems: list[str]):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            key = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"]).lstrip(".")
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "value_error" and not item["loc"]:
                problems.extend(message.split("; "))
            else:
                problems.append(f"{key or '(top level)'}: {message}")
        return None
