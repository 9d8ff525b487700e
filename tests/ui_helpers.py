"""Helpers for Pilot tests of the incident screens: what a widget actually puts on the terminal."""
from __future__ import annotations


def rendered(widget) -> str:
    """The text of every segment the widget renders, as the terminal would receive it."""
    region = widget.region.reset_offset
    lines = widget.render_lines(region)
    return "\n".join("".join(seg.text for seg in strip) for strip in lines)


def has_action_meta(widget) -> bool:
    """True if any rendered segment carries a click action (Textual's @click markup)."""
    region = widget.region.reset_offset
    for strip in widget.render_lines(region):
        for seg in strip:
            meta = seg.style.meta if seg.style else {}
            if meta and any(k.startswith("@") for k in meta):
                return True
    return False


async def wait_for(pilot, condition, timeout: float = 5.0) -> bool:
    """Poll until ``condition()`` holds (something another thread, worker or process does), at most
    ``timeout`` seconds; never a wait for a deadline, which tests move with the clock instead."""
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


def screen_text(app) -> str:
    """The whole screen as plain text, one line per terminal row: what is readable without colour.

    Layers above the screen (toasts, the command palette) are those of the active screen."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip if not seg.control).rstrip() for strip in strips)


def burst(app, text: str) -> None:
    """Queue ``text`` as keys all at once, as the driver does with one read of a laggy SSH link.

    ``\\t`` is Tab, ``\\x1b[Z`` is not supported (use the key name list of ``burst_keys``), ``\\r`` Enter."""
    from textual import events
    names = {"\t": ("tab", None), "\r": ("enter", None), "\n": ("enter", None), " ": ("space", " ")}
    for ch in text:
        key, char = names.get(ch, (ch, ch))
        app.post_message(events.Key(key, char if char is not None else (ch if ch not in "\t\r\n" else None)))


def _key(ch: str) -> str:
    return "space" if ch == " " else ch


async def type_text(pilot, text: str) -> None:
    """Type ``text`` key by key, as a person would (space as the space key)."""
    await pilot.press(*[_key(c) for c in text])


async def fill_form(pilot, *values, save: str = "ctrl+s") -> None:
    """Fill a form's fields in their order by keys only: for each field, clear it (home, then
    delete to the end) and type the value, then tab to the next; ``None`` leaves a field as it
    is. Ends with ``save`` (ctrl+s) unless it is empty."""
    for i, value in enumerate(values):
        if value is not None:
            await pilot.press("home", "ctrl+k")
            await type_text(pilot, value)
        if i < len(values) - 1:
            await pilot.press("tab")
    if save:
        await pilot.press(save)
    await pilot.pause()


async def screen_ready(app) -> None:
    """Wait until the screen just opened has mounted and run its opening work (its first field
    focused, its rows read): the app's own wait before it hands a screen its first key
    (``tui.type_ahead.settle``), instead of a fixed pause."""
    from tui.type_ahead import settle
    await settle(app.screen)
