"""Generation providers behind one small interface: `local` (offline) and `replicate`."""

from __future__ import annotations

from mediajobs import config
from mediajobs.scenes.providers.base import Provider


def get_provider() -> Provider:
    """GENERATION_PROVIDER, or `replicate` when a token is bound and `local` otherwise."""
    choice = config.GENERATION_PROVIDER.value or ("replicate" if config.replicate_token() else "local")
    if choice == "replicate":
        from mediajobs.scenes.providers.replicate_provider import ReplicateProvider

        return ReplicateProvider.from_config()
    from mediajobs.scenes.providers.local import LocalProvider

    return LocalProvider(latency_ms=config.LOCAL_PROVIDER_LATENCY_MS.value)
