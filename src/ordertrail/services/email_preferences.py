"""Which notices a user also wants by e-mail. The in-app inbox always keeps every notice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ordertrail.domain.errors import FieldError, Forbidden, NotFound, ValidationFailed
from ordertrail.domain.notices import NoticeType
from ordertrail.domain.users import User
from ordertrail.services.context import Deps
from ordertrail.services.users import ADMIN_ID

ALL = "*"


@dataclass(frozen=True)
class EmailPreferences:
    email: str | None
    disabled_types: tuple[str, ...]  # "*" turns all e-mail off

    @property
    def all_disabled(self) -> bool:
        return ALL in self.disabled_types


def _stored(actor: User) -> None:
    if actor.id == ADMIN_ID:
        raise Forbidden("The bootstrap admin key has no e-mail address or preferences.")


def preferences(deps: Deps, actor: User) -> EmailPreferences:
    _stored(actor)
    return EmailPreferences(actor.email, tuple(sorted(actor.email_opt_out)))


def set_preferences(deps: Deps, actor: User, disabled_types: Sequence[str]) -> EmailPreferences:
    _stored(actor)
    errors = [
        FieldError(
            f"disabled_types.{i}",
            "unknown_event_type",
            f"'{t}' is not a notification type; use one of {', '.join(sorted(NoticeType.ALL))} or '*'.",
        )
        for i, t in enumerate(disabled_types)
        if t != ALL and t not in NoticeType.ALL
    ]
    if errors:
        raise ValidationFailed(errors)
    chosen = tuple(sorted(set(disabled_types)))
    with deps.uow() as uow:
        uow.email_preferences.set_opt_out(actor.id, chosen)
        uow.commit()
    return EmailPreferences(actor.email, chosen)


def unsubscribe(deps: Deps, user_id: str, notice_type: str) -> EmailPreferences:
    """One-click unsubscribe from a link in an e-mail (the link's signature was checked by the caller)."""
    if notice_type != ALL and notice_type not in NoticeType.ALL:
        raise NotFound("This unsubscribe link is not valid.")
    with deps.uow() as uow:
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound("This unsubscribe link is not valid.")
        chosen = tuple(sorted({*user.email_opt_out, notice_type}))
        uow.email_preferences.set_opt_out(user.id, chosen)
        uow.commit()
    return EmailPreferences(user.email, chosen)
