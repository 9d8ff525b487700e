"""The checked-in snapshots of the main screens are today's screens (tests/snapshot_screens.py).

A failure means a screen's layout changed: look at it, then run ``python -m tests.snapshot_screens``
and commit the new ``tests/snapshots/*`` with the change, so the review shows the new screens."""
import pytest

from tests.snapshot_screens import SCREENS, SIZES, path, render


@pytest.mark.parametrize("name", SCREENS)
async def test_screen_matches_its_snapshot(name, tmp_path):
    for size in SIZES:
        _, text = await render(name, size, tmp_path)
        stored = path(name, size, "txt")
        assert stored.exists() and path(name, size, "svg").exists(), f"no snapshot {stored.name}"
        assert text + "\n" == stored.read_text(encoding="utf-8"), (
            f"{name} at {size[0]}×{size[1]} differs from {stored.name}: "
            "check the screen, then `python -m tests.snapshot_screens` and commit tests/snapshots/")
