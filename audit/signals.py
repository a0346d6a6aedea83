from typing import Any

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from audit.context import current_actor


@receiver(pre_create_historical_record)
def stamp_door(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    actor = current_actor()
    if hasattr(history_instance, "history_door"):
        history_instance.history_door = actor.door
        history_instance.history_api_key_name = getattr(actor.api_key, "name", "") or ""
