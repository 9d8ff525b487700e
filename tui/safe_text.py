"""The one choke point for stored text on the TUI's terminal (issue 13).

Every widget, cell, notification, title and dialog turns its text into a Rich
``Text`` or a Textual ``Content`` before it is drawn, and both pass that text
through a control-code translation table (Rich's and Textual's own, which only
drop BEL, BS, VT, FF and CR). ``install()`` fills those tables with
``models.text``'s unsafe classes, each mapped to its visible escape: an
evidence file named ``log<ESC>]0;T<BEL>.txt`` is shown as ``log\\x1b]0;T\\x07.txt``
on the Evidence tab, the timeline, a toast or the pre-login school name, with
no screen having to remember it. Because the escape is made when the text is
built, widths and wrapping are measured on what is shown.

As a last line, ``Strip.render`` (where segments become the bytes written to the
terminal) drops any unsafe character that reached a segment some other way
(text built with control-code stripping turned off); the app's own escape
sequences are added around segments, never inside them, so they are untouched.
"""
from __future__ import annotations

from models.text import UNSAFE, UNSAFE_RANGES, _visible

_installed = False


def _guard(text: str) -> str:
    if UNSAFE.search(text) is None:
        return text
    from rich.cells import cell_len
    # keep the cell width the layout measured: a one-cell character becomes U+FFFD, a zero-width one goes
    return UNSAFE.sub(lambda m: "\ufffd" if cell_len(m.group()) == 1 else "", text)


def install() -> None:
    global _installed
    if _installed:
        return
    import rich.control
    import textual.content
    from textual.strip import Strip

    table = {c: _visible(chr(c)) for lo, hi in UNSAFE_RANGES for c in range(lo, hi + 1)}
    # The dictionaries are the default arguments of rich.control.strip_control_codes and
    # textual.content._strip_control_codes: updated in place, every Text and Content uses them.
    for module in (rich.control, textual.content):
        module._CONTROL_STRIP_TRANSLATE.update(table)

    def render(self: Strip, console) -> str:
        if self._render_cache is None:
            from rich.color import ColorSystem as _CS
            color_system = console._color_system or _CS.TRUECOLOR
            style_render = self.render_style
            self._render_cache = "".join([
                _guard(text) if style is None else style_render(style, _guard(text), color_system=color_system)
                for text, style, _ in self._segments
            ])
        return self._render_cache

    Strip.render = render
    _installed = True
