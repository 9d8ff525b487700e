"""Write docs/cli.md, the command reference, from the real parser (``tui.cli.build_parser``).

    python docs/tools/gen_cli.py          # from the repository's root, in .venv

Run it after adding or changing a command; tests/test_docs.py checks that every command and option
the docs show exists, so a stale page fails the suite.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

COMMON = {"-h", "--help", "--db", "--config", "--lang", "--user", "--password-stdin"}


def _sub(p: argparse.ArgumentParser):
    return next((a for a in p._actions if isinstance(a, argparse._SubParsersAction)), None)


def _value(a: argparse.Action) -> str:
    if a.nargs == 0:
        return ""
    if a.choices:
        v = "|".join(str(c) for c in a.choices)
    else:
        v = a.metavar or a.dest.upper()
    return f" {v} …" if a.nargs in ("+", "*") else f" {v}"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _usage(path: list[str], p: argparse.ArgumentParser) -> str:
    words = ["xueji-duty", *path]
    for a in p._actions:
        if a.option_strings or isinstance(a, argparse._SubParsersAction):
            continue
        name = (a.metavar or a.dest).upper()
        words.append(f"[{name}]" if a.nargs in ("?", "*") else name + (" …" if a.nargs == "+" else ""))
    for a in p._actions:
        if not a.option_strings or set(a.option_strings) & COMMON:
            continue
        opt = max(a.option_strings, key=len) + _value(a)
        words.append(opt if a.required else f"[{opt}]")
    return " ".join(words)


def _section(path: list[str], p: argparse.ArgumentParser, help_text: str | None, out: list[str]) -> None:
    sub = _sub(p)
    own = [a for a in p._actions if a.option_strings and not set(a.option_strings) & COMMON]
    positionals = [a for a in p._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]
    if path:
        out.append(f"{'#' * min(len(path) + 1, 4)} `xueji-duty {' '.join(path)}`\n")
        if help_text:
            out.append(f"{help_text.strip()}\n")
    if path and (own or positionals or not sub):
        out.append(f"```sh\n{_usage(path, p)}\n```\n")
        rows = [(f"`{(a.metavar or a.dest).upper()}`", a.help) for a in positionals]
        rows += [(" ".join(f"`{o}{_value(a)}`" for o in a.option_strings), a.help) for a in own]
        if rows:
            out.append("| 参数 | 说明 |\n|---|---|")
            out += [f"| {_cell(k)} | {_cell(v)} |" for k, v in rows]
            out.append("")
    if sub:
        helps = {c.dest: c.help for c in sub._choices_actions}
        for name, child in sub.choices.items():
            _section([*path, name], child, helps.get(name), out)


def render() -> str:
    from models.i18n import set_language
    set_language("zh")
    from tui.cli import build_parser
    parser = build_parser()
    out = ["# 命令参考 · Command reference\n",
           "由 `python docs/tools/gen_cli.py` 根据程序自己的命令解析器生成，请勿手改。"
           "Generated from the program's own parser by `python docs/tools/gen_cli.py`; do not edit by hand.\n",
           "每个命令都接受这些通用选项 / every command takes these common options:\n",
           "| 选项 | 说明 |\n|---|---|"]
    for a in parser._actions:
        if set(a.option_strings) & (COMMON - {"-h", "--help"}):
            out.append(f"| {_cell(' '.join(f'`{o}{_value(a)}`' for o in a.option_strings))} | {_cell(a.help)} |")
    out.append("")
    out.append("不带子命令运行 `xueji-duty` 即启动全屏程序；`xueji-duty --no-mouse` 不使用鼠标（SSH 下便于选择文字），"
               "`xueji-duty --version` 显示版本。退出码：0 成功，1 业务错误（一行说明，没有 traceback），2 用法错误。"
               "时间的写法见 [参考](reference.md#时间的写法)。\n")
    _section([], parser, None, out)
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    target = ROOT / "docs" / "cli.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
