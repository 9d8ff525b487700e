"""The ``xueji-duty`` command: the TUI with no subcommand, scriptable commands otherwise.

Exit codes: 0 ok, 1 a domain error (printed as one message), 2 usage. A
user's mistake never shows a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys

from models.errors import DomainError
from models.i18n import detect_language, set_language, t


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(2)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=argparse.SUPPRESS, help=t("cli.db"))
    p.add_argument("--config", default=argparse.SUPPRESS, help=t("cli.config"))
    p.add_argument("--lang", default=argparse.SUPPRESS, choices=["zh", "en"], help=t("cli.lang"))
    p.add_argument("--user", default=argparse.SUPPRESS, help=t("cli.user"))
    p.add_argument("--password-stdin", action="store_true", default=argparse.SUPPRESS,
                   help=t("cli.password_stdin"))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xueji-duty", description=t("cli.description"))
    add_common(parser)
    parser.add_argument("--no-mouse", action="store_true", help=t("cli.no_mouse"))
    from tui import __version__
    parser.add_argument("--version", action="version", version=f"xueji-duty {__version__}",
                        help=t("cli.version"))
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    import tui.commands as pkg
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # helpers shared by commands, not commands
            continue
        module = importlib.import_module(f"tui.commands.{info.name}")
        module.register(sub, add_common)
    return parser


_RELATIVE = re.compile(r"^-\d")   # -90m, -2h, and -3h50m too: the time parser, not argparse, answers


def _glue_relative_times(argv: list[str]) -> list[str]:
    """``--occurred -90m`` would read as an unknown option; glue it to ``--occurred=-90m``."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _RELATIVE.match(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def _pre_language(argv: list[str]) -> None:
    lang = None
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif a.startswith("--lang="):
            lang = a.split("=", 1)[1]
    set_language(detect_language(lang))


class SafeWriter:
    """A text stream whose every write goes through ``models.text.safe_display``: the one place
    CLI output is made safe, so no command can print stored text raw (an evidence file named
    ``<ESC>]52;…`` must not write the clipboard). JSON is escaped with ``\\u`` before it gets
    here (``tui.env.print_json``), so it passes unchanged and stays valid."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from models.text import safe_display
        self._stream.write(safe_display(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _safe_streams() -> dict:
    """Wrap stdout and stderr; returns the streams they replaced, for ``main`` to put back."""
    before = {"stdout": sys.stdout, "stderr": sys.stderr}
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or isinstance(stream, SafeWriter):
            continue
        try:   # a terminal that cannot show a character gets an escape, not UnicodeEncodeError
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
        setattr(sys, name, SafeWriter(stream))
    return before


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
    except (OSError, ValueError):
        pass


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail on the closed pipe."""
    import io
    import os
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return                  # not a file descriptor (a test's buffer): nothing will flush it
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass


class _NotTheTui(Exception):
    pass


class _Probe(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise _NotTheTui(message)


def _tui_args(argv: list[str]) -> argparse.Namespace | None:
    """The arguments of a plain TUI start, parsed without importing the ~25 command modules
    (~60 ms of the first paint, issue 4); ``None`` for a subcommand, ``--help`` or any doubt,
    which the full parser then handles and reports."""
    if any(a in ("-h", "--help") for a in argv):
        return None
    probe = _Probe(prog="xueji-duty", add_help=False)
    add_common(probe)
    probe.add_argument("--no-mouse", action="store_true")
    probe.add_argument("command", nargs="?")
    try:
        args, rest = probe.parse_known_args(argv)
    except _NotTheTui:
        return None
    if args.command is not None or rest:
        return None
    return args


def main(argv: list[str] | None = None) -> int:
    argv = _glue_relative_times(list(sys.argv[1:] if argv is None else argv))
    _pre_language(argv)
    args = _tui_args(argv)
    streams = None
    if args is None:
        streams = _safe_streams()     # a subcommand or --help: human output through safe_display
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:
            _flush_quietly()
            _restore(streams)
            raise
        except BrokenPipeError:       # `xueji-duty --help | head -3`
            _quiet_stdout()
            _restore(streams)
            return 141
    else:
        from tui import startup
        startup.pause()     # until the first screen is up (tui/startup.py)
    from tui.env import Env
    env = None
    try:
        env = Env.from_args(args)
        if not getattr(args, "command", None):
            from tui.app import run_app
            return run_app(env)
        code = int(args.func(env) or 0)
        sys.stdout.flush()      # here, so a closed pipe is reported below, not at exit
        return code
    except DomainError as exc:
        sys.stderr.write(t("cli.error_prefix") + exc.message + "\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(t("error.interrupted") + "\n")
        return 130
    except EOFError:            # Ctrl+D at a user-name or password prompt
        sys.stderr.write("\n" + t("cli.error.eof") + "\n")
        return 1
    except BrokenPipeError:     # `xueji-duty incident list | head`: the reader has gone, so be quiet
        _quiet_stdout()
        return 141
    except OverflowError:       # an id like 99999999999999999999: no row has it, SQLite cannot hold it
        sys.stderr.write(t("cli.error_prefix") + t("cli.error.number_too_large") + "\n")
        return 1
    except UnicodeEncodeError:  # an argument that is not UTF-8, used where only text can go
        sys.stderr.write(t("cli.error_prefix") + t("cli.error.not_utf8") + "\n")
        return 1
    finally:
        if env is not None:
            env.close()
        if streams is not None:
            _restore(streams)


def _restore(streams: dict) -> None:
    for name, stream in streams.items():
        if isinstance(getattr(sys, name), SafeWriter):
            setattr(sys, name, stream)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
