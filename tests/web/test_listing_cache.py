"""The listing cache: kept for the session, within an archive count and an entry budget."""

from __future__ import annotations

from backup_inspector.backup_format.tar_entry import EntryType, TarEntry
from backup_inspector.web.listing_cache import ListingKey, MemoryListingCache


def key(backup_id: str, archive: str = "share") -> ListingKey:
    """A cache key for one archive of one backup version."""
    return ListingKey(backup_id, 100, 1, archive)


def fill(cache: MemoryListingCache, cache_key: ListingKey, entries: int) -> None:
    """Create an index with `entries` files, finished."""
    index, _is_new = cache.get_or_create(cache_key)
    for number in range(entries):
        index.add(TarEntry(f"f{number}", f"f{number}", EntryType.FILE, 1, 0.0, 0o644))
    index.finish({})


def test_oldest_listings_go_first_when_over_budget() -> None:
    """Beyond the entry budget, the least recently used finished listings are dropped."""
    cache = MemoryListingCache(max_archives=10, max_entries=250)
    fill(cache, key("a"), 100)
    fill(cache, key("b"), 100)
    assert cache.get(key("a")) is not None  # "a" is now the most recently used
    fill(cache, key("c"), 100)
    cache.trim()
    assert cache.get(key("b")) is None
    assert cache.get(key("a")) is not None
    assert cache.get(key("c")) is not None


def test_listing_being_filled_is_kept() -> None:
    """An index a listing job still fills is never dropped."""
    cache = MemoryListingCache(max_archives=1)
    filling, _is_new = cache.get_or_create(key("a"))
    filling.start("job-1")
    fill(cache, key("b"), 1)
    assert cache.get(key("a")) is filling


def test_discard_backup_drops_all_its_archives() -> None:
    """A changed or vanished backup loses every cached listing."""
    cache = MemoryListingCache()
    fill(cache, key("a", "share"), 1)
    fill(cache, key("a", "ssl"), 1)
    fill(cache, key("b", "share"), 1)
    cache.discard_backup("a")
    assert cache.get(key("a", "share")) is None
    assert cache.get(key("a", "ssl")) is None
    assert cache.get(key("b", "share")) is not None
