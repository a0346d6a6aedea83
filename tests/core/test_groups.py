"""Pushes from synchronous code: through the process's own event loop for a networked layer (its
connections outlive the call), on the spot for the in-memory one, and never an error for the
caller."""

import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer

from backend.core import groups

SENT: list[tuple[str, dict, str]] = []


class RecordingLayer(BaseChannelLayer):
    """A networked layer as the caller sees it: what it was asked to send, and from which thread."""

    async def group_send(self, group, message):
        if group == "broken":
            raise ConnectionError("Redis is away")
        SENT.append((group, message, threading.current_thread().name))


def _recording(settings):
    SENT.clear()
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.core.test_groups.RecordingLayer"}}


def test_a_networked_layer_is_sent_to_from_one_long_lived_loop(settings):
    _recording(settings)

    groups.send_to_groups([("dashboard-1", {"type": "dashboard.events", "events": [1]})])
    groups.send_to_groups([("user-2", {"type": "event.push"}), ("user-3", {"type": "event.push"})])
    groups._loop.drain()

    assert [(group, message["type"]) for group, message, _ in SENT] == [
        ("dashboard-1", "dashboard.events"), ("user-2", "event.push"), ("user-3", "event.push")]
    assert {thread for _, _, thread in SENT} == {"channel-layer-loop"}
    assert [t.name for t in threading.enumerate()].count("channel-layer-loop") == 1


def test_a_failed_push_is_logged_and_the_others_still_go(settings, caplog):
    _recording(settings)

    with caplog.at_level(logging.WARNING, logger="backend.core.groups"):
        groups.send_to_groups([("broken", {"type": "event.push"}), ("user-2", {"type": "event.push"})])
        groups._loop.drain()

    assert [group for group, _, _ in SENT] == ["user-2"]
    assert "Push to broken failed" in caplog.text


def test_the_in_memory_layer_gets_the_message_before_the_call_returns(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("user-7", channel)

    groups.send_to_groups([("user-7", {"type": "event.push", "event": {"id": "1"}})])

    assert async_to_sync(layer.receive)(channel) == {"type": "event.push", "event": {"id": "1"}}
