"""The garbage collector of a long-lived server process.

Everything a process loads at start (Django, the apps, the URLs and the API's schemas) lives as
long as the process, yet Python's collector walked all of it again on every full collection: in
the SMS benchmark that was about a tenth of the web's CPU. Frozen, it is left out of every
collection. Young collections run less often too: a batch of texts makes many short-lived objects.
"""

import gc

# Python's default is 700 new objects between young collections.
YOUNG_THRESHOLD = 7000


def settle() -> None:
    """Call once the process has loaded what it keeps (before forking workers, if it forks)."""
    gc.collect()  # what start-up already dropped is freed, not frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
