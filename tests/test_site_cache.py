"""SiteCache sees every write made through another connection at the next lookup."""

from pathlib import Path

from authkong.domain.clock import FakeClock
from authkong.domain.site import hash_secret
from authkong.storage.registry import Registry, SiteCache, migrate, open_engine
from tests.support import make_site


def _registry(path: Path) -> Registry:
    engine = open_engine(path)
    migrate(engine)
    return Registry(engine)


def test_writes_in_quick_succession_are_each_seen(tmp_path: Path) -> None:
    """Back-to-back creates, a rotation and a delete by another engine show up at once."""
    db = tmp_path / "authkong.sqlite3"
    server_side, cli_side = _registry(db), _registry(db)
    cache = SiteCache(server_side, db)
    clock = FakeClock()
    now = clock.now_ms()
    try:
        assert cache.by_sitekey("nope") is None
        for i in range(20):
            created = make_site(cli_side, now, name=f"s{i}")
            assert cache.by_sitekey(created.site.sitekey) == created.site
            assert cache.by_secret(hash_secret(created.secret), now) == created.site
            rotated = cli_side.rotate_secret(created.site.sitekey, overlap_ms=0, now_ms=now)
            assert cache.by_secret(hash_secret(created.secret), now) is None
            assert cache.by_secret(hash_secret(rotated.secret), now) is not None
            cli_side.delete_site(created.site.sitekey)
            assert cache.by_sitekey(created.site.sitekey) is None
    finally:
        cache.close()
        server_side.engine.dispose()
        cli_side.engine.dispose()
