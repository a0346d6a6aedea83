"""Who may see which rows: the one place that decides it.

A rep sees what they own or what is shared with them; a manager sees everything owned by the
team below them, at every level; an executive sees everything; logistics sees orders and
shipments only. Every read path (API, SMS, admin, dashboard) goes through `scope()`.

A model takes part by naming the path to its owner in `scope_owner` (for example
`"customer__owner"`), optionally a path to users it is shared with in `scope_shared`, and
`scope_logistics = True` when logistics may see it, or `scope_company_wide = True` when every
rep, manager and executive may (tips).
"""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from backend.org.models import Role, User

M = TypeVar("M", bound=Model)


def team_ids(user: User) -> frozenset[int]:
    """The user and everyone who reports to them, directly or not (cached on the instance)."""
    cached = getattr(user, "_team_ids", None)
    if cached is not None:
        return cached
    found = {user.pk}
    frontier = {user.pk}
    while frontier:
        frontier = set(User.objects.filter(manager_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    user._team_ids = frozenset(found)
    return user._team_ids


def sees_everything(user: Any) -> bool:
    return bool(user.is_superuser or user.role == Role.EXECUTIVE)


def scope(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """`queryset` narrowed to the rows `user` may see."""
    condition = sight(queryset.model, user)
    if condition is None:
        return queryset.none()
    return queryset.filter(condition) if condition else queryset


def sight(model: type[Model], user: Any) -> Q | None:
    """The rows of `model` that `user` may see, as a condition: None for none, an empty Q for
    all. `scope()` applies it; a read for many people at once combines several."""
    if user is None or not getattr(user, "is_active", False):
        return None
    if sees_everything(user):
        return Q()
    if user.role == Role.LOGISTICS:
        return Q() if getattr(model, "scope_logistics", False) else None
    if getattr(model, "scope_company_wide", False):  # shared knowledge, e.g. tips
        return Q()
    owner_path = getattr(model, "scope_owner", None)
    if owner_path is None:
        return None
    return _owner_condition(model, owner_path, user)


def _owner_condition(model: type[Model], owner_path: str, user: User) -> Q:
    owners = _owners(user)
    condition = Q(**{f"{owner_path}__in": owners}) if len(owners) > 1 else Q(**{owner_path: user.pk})
    shared_path = getattr(model, "scope_shared", None)
    if shared_path:
        # A subquery, not a join: the join would repeat rows shared with several people.
        condition |= Q(pk__in=model._default_manager.filter(**{shared_path: user.pk}).values("pk"))
    return condition


def _owners(user: User) -> frozenset[int]:
    return team_ids(user) if user.role == Role.MANAGER else frozenset({user.pk})


def owners_in_sight(model: type[Model], user: Any) -> frozenset[int] | None:
    """Whose rows of `model` `user` sees (None: everyone's), by the rule of `sight()`: for a read
    for many people that groups rows by owner once. Not for models whose rows are shared."""
    if getattr(model, "scope_shared", None):
        raise TypeError(f"{model.__name__} rows are shared with people other than their owner: use sight()")
    condition = sight(model, user)
    if condition is None:
        return frozenset()
    return _owners(user) if condition else None


def visible_users(user: Any) -> QuerySet[User]:
    """People `user` may see: themselves and their team; all for executives."""
    if sees_everything(user):
        return User.objects.all()
    if user.role == Role.MANAGER:
        return User.objects.filter(pk__in=team_ids(user))
    return User.objects.filter(pk=user.pk)


def can_manage(manager: Any, user: User) -> bool:
    """A manager may act for someone in their team (revoke a lost phone, hand over customers)."""
    if sees_everything(manager):
        return True
    return manager.role == Role.MANAGER and user.pk in team_ids(manager) and manager.pk != user.pk


def viewer_ids(instance: Model) -> set[int]:
    """Who sees `instance` now, apart from those who see everything: its owner, the people it is
    shared with, and every manager above them. Take it before a change that may hide the row
    (a handover, an unshare) and pass it to `backend.core.sync.tombstone_record`."""
    model = type(instance)
    paths = [p for p in (getattr(model, "scope_owner", None), getattr(model, "scope_shared", None)) if p]
    found: set[int] = set()
    for path in paths:
        found |= {pk for pk in model._default_manager.filter(pk=instance.pk).values_list(path, flat=True) if pk}
    return found.union(*managers_above(found).values())


def managers_above(user_ids: Iterable[int]) -> dict[int, set[int]]:
    """Every manager above each person, at every level: one query per level of the tree."""
    user_ids = set(user_ids)
    manager_of: dict[int, int | None] = {}
    frontier = user_ids
    while frontier:
        level = dict(User.objects.filter(pk__in=frontier).values_list("pk", "manager_id"))
        manager_of.update(level)
        frontier = {manager for manager in level.values() if manager is not None} - manager_of.keys()
    return manager_chains(user_ids, manager_of)


def manager_chains(user_ids: Iterable[int], manager_of: Mapping[int, int | None]) -> dict[int, set[int]]:
    """Every manager above each person, from a map of each person's manager."""
    above: dict[int, set[int]] = {}
    for user_id in user_ids:
        chain, manager = set(), manager_of.get(user_id)
        while manager is not None and manager not in chain:  # a loop in the tree ends the walk
            chain.add(manager)
            manager = manager_of.get(manager)
        above[user_id] = chain
    return above
