"""The CLI's own settings: where the API is and the key to show it, nothing of the server's.

The CLI runs on client machines that have no server configuration, and must not refuse to start
because a server setting (a production secret, say) is missing. Its settings come from
``MMF_API_URL`` / ``MMF_API_KEY`` (environment or ``.env``) and the ``--api`` / ``--api-key`` flags.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CliSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MMF_", env_file=".env", extra="ignore")

    api_url: str = "http://127.0.0.1:8000"
    api_key: SecretStr | None = None
    timeout_s: float = Field(30.0, gt=0)
