"""Keys typed ahead land in the field they were typed for, and act in the order they were typed
(issue 15 item 3).

Textual reads a burst of keys (typed during a lag of an SSH link, or pasted by a terminal that
sends keys) one after another and hands each to the widget focused *at that moment*. Three of
its paths let a later key overtake an earlier one:

1. A key the focused widget does not take itself (Tab; an Input's Home or Ctrl+K; a screen's
   letter such as ``h``) goes down to the widget and comes back up to the app, which runs its
   binding only then — after the keys typed behind it were already handed out. ``勒索⇥`` Home
   Ctrl+K ``-40m`` lost the ``-40m``: Ctrl+K, run last, deleted it.
2. ``Widget.focus()`` does not move the focus: it asks the app to, later, behind the keys already
   read. A form that focuses its first field on opening got its first keys nowhere.
3. A screen that finishes opening after its next repaint (``call_after_refresh``) was handed keys
   before it was ready.

``KeysInOrder`` (a mixin of the app) reads keys one at a time. Before a key is handed out, the
work earlier keys asked for is done (a new screen has mounted, its deferred focus applied); after,
the key is followed through every widget up to the screen — each is asked to run a callback
behind the key, which it does only once it has handled the key — and if the key comes back to
the app unhandled, its binding runs there and then, before the next key is read. Nothing here
waits for a length of time: each wait is for a named piece of work to be done. ``FAILSAFE_S``
bounds a wait only against a widget that never answers (a bug), so a key is held, never lost.

Tab and Shift+Tab are also app-level priority bindings (``TypeAheadFocus``) that move the focus
at once, and Enter in the forms is one (``screens._account_form.FieldsInOrder``). A widget or
screen that gives Tab a meaning of its own (a screen's own ``tab`` binding, a TextArea that
indents) keeps it: the priority binding then steps aside.
"""
from __future__ import annotations

import asyncio
import time

from textual import events
from textual.binding import Binding
from textual.widgets import TextArea

from models.i18n import t

FOCUS_ACTIONS = {"app.focus_next", "app.focus_previous", "focus_next", "focus_previous"}

# The longest one key is held waiting for a widget that never answers (a bug, never normal use).
FAILSAFE_S = 2.0
# A screen that repaints before it runs its after-refresh work: how often to look again.
REPAINT_POLL_S = 0.005


async def drained(node) -> bool:
    """Wait until ``node`` has handled every message queued to it before now.

    A callback is queued behind them; a message pump handles its queue in order, so when the
    callback runs, everything before it has been handled. False if the node is closing (its
    queue will not be handled) or did not answer within ``FAILSAFE_S``. (A future and a timer
    handle, not ``asyncio.wait``: this runs a few times per key.)"""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def answered(*_args) -> None:
        if not done.done():
            done.set_result(True)

    if not node.call_later(answered):
        return False
    task = getattr(node, "_task", None)
    if task is not None:
        task.add_done_callback(answered)            # closed before it got to the callback
    failsafe = loop.call_later(FAILSAFE_S, lambda: done.done() or done.set_result(False))
    try:
        return await done
    finally:
        failsafe.cancel()
        if task is not None:
            task.remove_done_callback(answered)


def _quiet(nodes) -> bool:
    return all(node._message_queue.empty() for node in nodes)


async def settle(screen, limit_s: float = FAILSAFE_S) -> None:
    """Wait until ``screen`` and every widget in it have handled what they were sent, the screen has
    run its after-repaint work, and the focus changes they asked the app for are applied.

    Used before the first key a new screen gets, and by a save bound with priority (ctrl+s) so
    that the keys typed before it, and the messages they caused (``Input.Changed``), are in the
    form first. Each round waits for the named work only; the loop ends when a round finds
    nothing left."""
    app = screen.app
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        nodes = list(screen.walk_children(with_self=True))
        await asyncio.gather(*(drained(node) for node in nodes))
        ran = await app.run_deferred_focus() if hasattr(app, "run_deferred_focus") else False
        if screen._callbacks and screen.is_current:
            await asyncio.sleep(REPAINT_POLL_S)      # the screen runs them after its next repaint
            continue
        after = list(screen.walk_children(with_self=True))
        if not ran and len(after) == len(nodes) and _quiet(after):
            return


class KeysInOrder:
    """App mixin: each key read acts, and its effects are applied, before the next key is read."""

    _key_in_flight: events.Key | None = None
    _key_came_back = False
    _ready_screen = None
    _burst_batch = False

    def post_message(self, message) -> bool:
        # The key being followed, bubbled back up to the app: it is handled in ``on_event`` at
        # once rather than queued behind the keys typed after it.
        if message is self._key_in_flight and self._key_in_flight is not None:
            self._key_came_back = True
            return True
        return super().post_message(message)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and not self._screen_stack:
            return                              # the app is closing: no screen to type into
        if (not isinstance(event, events.Key) or event.is_forwarded
                or self._key_in_flight is not None):
            await super().on_event(event)
            return
        await self.keys_ready()
        if not self._burst_batch and self._keys_queued():
            # A burst: no repaint between its keys (each would cost a layout of the whole screen,
            # ~7 ms for the new-incident form); one repaint when the last key is done.
            self._burst_batch = True
            self._begin_batch()
        try:
            await self._one_key(event)
        finally:
            if self._burst_batch and not self._keys_queued():
                self._burst_batch = False
                self._end_batch()
                if self._screen_stack:
                    self.screen.check_idle()

    async def _one_key(self, event: events.Key) -> None:
        self._key_in_flight, self._key_came_back = event, False
        chain = self._chain()
        try:
            await super().on_event(event)       # priority bindings, else handed to the focused widget
            if event.is_forwarded and not self._key_came_back:
                await self._follow(chain, event)
        finally:
            self._key_in_flight = None
        if self._key_came_back:
            await self._dispatch_message(event)  # the app's bindings, as when it reaches the queue
        # What the key's handling sent on (an Input's Submitted, a screen's reaction to it), and
        # the focus it asked for, before the next key.
        await self._follow(chain)
        await self.run_deferred_focus()

    def _keys_queued(self) -> bool:
        """True if a key read after this one is waiting in the app's queue."""
        if isinstance(self._pending_message, events.Key):
            return True
        return any(isinstance(m, events.Key) for m in self._message_queue.values)

    def _chain(self) -> list:
        """The widget a key is handed to (as ``App.on_event`` chooses it) and its containers up to
        the screen: the way a key bubbles back up."""
        target = self.focused or self.screen
        chain = [target]
        for node in target.ancestors:
            if node is self:
                break
            chain.append(node)
        return chain

    async def _follow(self, chain: list, event: events.Key | None = None) -> None:
        """With ``event``: wait until the key has gone up ``chain`` — through the widget it was
        handed to and each container that did not stop it — and is handled by one, or back at
        the app. Without: wait until what the key's handling sent to the chain (an Input's
        Submitted or Changed, a screen's reaction to it) is handled, pass after pass while
        anything is queued there."""
        if event is not None:
            for node in chain:
                if self._key_came_back:
                    return
                await drained(node)
                if event._stop_propagation:
                    return
            return
        for _ in range(3):
            busy = [node for node in chain if not node._message_queue.empty()]
            if not busy:
                return
            for node in busy:
                await drained(node)

    async def keys_ready(self) -> None:
        """Before a key is handed out: the focus earlier keys asked for is applied, and a screen
        they opened is mounted and has run its opening work."""
        await self.run_deferred_focus()
        if not self._screen_stack:       # exit: nothing to wait for
            return
        screen = self.screen
        if screen is not self._ready_screen:
            await settle(screen)
            self._ready_screen = screen

    async def run_deferred_focus(self) -> bool:
        """Run now the callbacks queued to the app behind keys already read — chiefly
        ``Widget.focus()``, which moves the focus only by such a callback. True if any ran.

        The queue is Textual's own (``textual._queue.Queue``: a deque and a ready flag): the
        callbacks are taken out and the other messages, keys first among them, keep their order."""
        queue = self._message_queue
        calls = []
        pending = self._pending_message
        if isinstance(pending, events.Callback):
            calls.append(pending)
            self._pending_message = None
        items = queue.values
        if any(isinstance(m, events.Callback) for m in items):
            keep = [m for m in items if not isinstance(m, events.Callback)]
            calls.extend(m for m in items if isinstance(m, events.Callback))
            items.clear()
            items.extend(keep)
            if not items:
                queue.ready_event.clear()      # as get() leaves it when it takes the last one
        for call in calls:
            await self._dispatch_message(call)
        return bool(calls)


class TypeAheadFocus:
    TYPE_AHEAD_BINDINGS = [
        Binding("tab", "type_ahead_focus(1)", t("help.next_field"), show=False, priority=True, id="type_ahead.next"),
        Binding("shift+tab", "type_ahead_focus(-1)", t("help.previous_field"), show=False, priority=True, id="type_ahead.previous"),
    ]

    def _tab_taken(self, key: str) -> bool:
        """True if something between the screen and the focused widget binds ``key`` itself."""
        focused = self.focused
        if key == "tab" and isinstance(focused, TextArea) and focused.tab_behavior == "indent":
            return True
        for node, bindings in self.screen._binding_chain:
            if node is self:
                continue
            for binding in bindings.key_to_bindings.get(key, ()):
                if binding.action not in FOCUS_ACTIONS:
                    return True
        return False

    def check_action(self, action: str, parameters):
        if action == "type_ahead_focus":
            step = parameters[0] if parameters else 1
            return not self._tab_taken("tab" if step > 0 else "shift+tab")
        return super().check_action(action, parameters)

    def action_type_ahead_focus(self, step: int = 1) -> None:
        """The next (previous) field. A scrolling container that holds fields is not a stop: keys
        typed there went nowhere (Tab out of the new-incident form's last field landed on the
        form itself, and the next words were lost); from it, Tab goes on to a field. A scrolling
        text with nothing to focus inside (a timeline) stays a stop, for its arrow keys."""
        screen = self.screen
        for _ in range(max(1, len(screen.focus_chain))):
            moved = screen.focus_next() if step > 0 else screen.focus_previous()
            if moved is None or not holds_fields(moved):
                return


def holds_fields(widget) -> bool:
    from textual.containers import ScrollableContainer
    return isinstance(widget, ScrollableContainer) and any(
        node.focusable for node in widget.walk_children() if node is not widget)
