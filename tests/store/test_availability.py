"""Backend down → the store's own exception; backend back → works again, without a restart."""
import pytest

from store import Store, StoreUnavailable
from tests.backends import HBASE_HOST, HBASE_PORT, require_hbase, unique_prefix
from tests.store.conftest import Counter
from tests.store.tcp_proxy import TcpRelay


@pytest.mark.hbase
def test_hbase_down_then_back():
    require_hbase()
    relay = TcpRelay(HBASE_HOST, HBASE_PORT).start()
    store = Store.from_settings(
        {
            "BACKEND": "hbase",
            "HBASE_HOST": "127.0.0.1",
            "HBASE_PORT": relay.port,
            "HBASE_TABLE_PREFIX": unique_prefix("a"),
            "HBASE_TIMEOUT_MS": 3000,
            "HBASE_RETRIES": 1,
        }
    )
    try:
        store.create(Counter)
        manager = store[Counter]
        manager.put({"c:ns": "a", "c:n": 1, "c:value": 7})
        relay.stop()  # the server goes away: open connections drop, new ones are refused
        with pytest.raises(StoreUnavailable) as info:
            manager.get(("a", 1))
        assert "unreachable" in str(info.value) or "did not answer" in str(info.value)
        with pytest.raises(StoreUnavailable):
            list(manager.scan(("a",)))
        with pytest.raises(StoreUnavailable):
            manager.put({"c:ns": "a", "c:n": 2, "c:value": 8})
        relay.start()  # back on the same port
        assert manager.get(("a", 1))["c:value"] == 7
        manager.put({"c:ns": "a", "c:n": 2, "c:value": 8})
        assert [r["c:n"] for r in manager.scan(("a",))] == [1, 2]
    finally:
        relay.stop()
        relay.start()
        store.drop(Counter)
        store.close()
        relay.stop()


def test_embedded_unusable_folder_then_fixed(tmp_path):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the store folder should be")
    store = Store.from_settings({"BACKEND": "embedded", "PATH": str(blocker / "store")})
    with pytest.raises(StoreUnavailable) as info:
        store.create(Counter)
    assert str(blocker) in str(info.value)
    blocker.unlink()
    blocker.mkdir()  # the folder is usable again
    store.create(Counter)
    store[Counter].put({"c:ns": "a", "c:n": 1, "c:value": 7})
    assert store[Counter].get(("a", 1))["c:value"] == 7
    store.close()


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="STORE_BACKEND"):
        Store.from_settings({"BACKEND": "cassandra"})
