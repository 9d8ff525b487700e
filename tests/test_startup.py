"""The plain TUI start parses its arguments without importing the command modules, and pauses
the garbage collector until the first screen is up; every other command line gets the full parser."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tui.cli import _tui_args, build_parser


@pytest.mark.parametrize("argv", [[], ["--db", "x.db"], ["--db", "x.db", "--no-mouse", "--lang", "en"],
                                  ["--user", "wangli", "--config", "c.toml"]])
def test_tui_starts_parse_as_the_full_parser_would(argv):
    assert vars(_tui_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [["init"], ["--db", "x.db", "incident", "list"], ["-h"], ["--bogus"],
                                  ["--db"], ["--lang", "fr"], ["stray", "words"]])
def test_anything_else_goes_to_the_full_parser(argv):
    assert _tui_args(argv) is None


def test_the_tui_path_imports_no_command_module(tmp_path):
    """Checked in a fresh interpreter: the parse for a TUI start leaves tui.commands unimported."""
    code = ("import sys\nfrom tui.cli import _tui_args\n"
            "assert _tui_args(['--db', 'x.db']) is not None\n"
            "print(sorted(m for m in sys.modules if m.startswith('tui.commands.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_gc_paused_until_the_first_screen_then_frozen_and_back_on():
    code = ("import gc\nfrom tui import startup\n"
            "startup.pause(); a = gc.isenabled()\n"
            "x = [object() for _ in range(10)]\n"
            "startup.resume(); b = gc.isenabled(); frozen = gc.get_freeze_count()\n"
            "startup.resume(); c = gc.isenabled()\n"
            "print(a, b, c, frozen > 0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "True", "True"]


async def test_the_app_turns_the_collector_back_on_once_its_first_screen_is_up(db_path, clock):
    import gc

    from tests.conftest import make_app
    from tui import startup
    app = make_app(db_path, clock)
    startup.pause()
    try:
        assert not gc.isenabled()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
            assert type(app.screen).__name__ == "BoardScreen"
    finally:
        gc.enable()
        gc.unfreeze()
