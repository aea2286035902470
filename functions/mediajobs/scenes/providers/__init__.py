"""Generation providers behind one small interface: `local` (offline) and `replicate`."""

from __future__ import annotations

from mediajobs import config
from mediajobs.scenes.providers.base import Provider


def get_provider_name() -> str:
    """GENERATION_PROVIDER, or `replicate` when a token is bound and `local` otherwise."""
    return config.GENERATION_PROVIDER.value or ("replicate" if config.replicate_token() else "local")


def get_provider() -> Provider:
    if get_provider_name() == "replicate":
        from mediajobs.scenes.providers.replicate_provider import ReplicateProvider

        return ReplicateProvider.from_config()
    from mediajobs.scenes.providers.local import LocalProvider

    return LocalProvider(latency_ms=config.LOCAL_PROVIDER_LATENCY_MS.value)
