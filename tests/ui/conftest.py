"""UI test settings: every window a test opens must be closed by its end."""

import pytest


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp):
    """Fails a test that leaves a top-level window visible."""
    yield
    qapp.processEvents()
    visible = [w for w in qapp.topLevelWidgets() if w.isVisible()]
    for w in visible:
        w.close()
    assert not visible, f"test left windows open: {[type(w).__name__ for w in visible]}"
