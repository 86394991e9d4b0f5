"""The draft -> posted document life cycle of the platform kit, written once for every platform that has one.

Some platforms (ERPs above all) take a document in two steps: it is created as a draft, which changes no books,
and then posted (released, approved), which numbers it and books it. A posted document cannot be edited: it is
reset to draft, changed and posted again, or it is reversed. A platform declares its life cycle
(:class:`Lifecycle`: which entities have one, its state values, how it voids) and implements the few steps
(:class:`LifecycleSteps`); these functions run them in the same order everywhere:

- :func:`create_posted`: create the draft, post it. A refused post withdraws the draft (a definitive refusal
  writes nothing, so the next attempt is a new request) and raises ``PostingRefused`` saying what was refused
  and the platform's reason, with the platform's hint for staff.
- :func:`finish`: a document search-before-create found (a create whose answer was lost) is posted if it was
  left a draft.
- :func:`revise`: change a document: reset a posted one to draft, write, post again. A refused write posts the
  old content again, so the document is never left a draft.
- :func:`void`: cancel (reset to draft first where the platform wants it) or reverse, as declared.

Nothing here names a platform.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .errors import PermanentError, PostingRefused, SyncError


@dataclass(frozen=True)
class Lifecycle:
    """What a platform declares: the entities created as drafts then posted, the values its state field takes,
    and how a posted document is voided ("cancel": reset to draft, then cancelled, where ``cancel_from_draft``;
    "reverse": a reversing document is posted against it)."""

    entities: frozenset[str]
    draft: frozenset[str] = frozenset({"draft"})
    posted: frozenset[str] = frozenset({"posted"})
    cancelled: frozenset[str] = frozenset({"cancel"})
    void_by: str = "cancel"
    cancel_from_draft: bool = True
    #: What staff are told to do when posting is refused (the platform's reason comes first).
    hint: str = "Fix what the platform names (a locked period, an inactive account or tax) and retry."

    def __post_init__(self) -> None:
        if self.void_by not in ("cancel", "reverse"):
            raise ValueError(f"void_by is 'cancel' or 'reverse', not {self.void_by!r}")


class LifecycleSteps(Protocol):
    """The steps a platform implements (each one call; errors classified as usual)."""

    def state(self, entity: str, remote_id: str) -> str: ...

    def post(self, entity: str, remote_id: str) -> None: ...

    def to_draft(self, entity: str, remote_id: str) -> None: ...

    def cancel(self, entity: str, remote_id: str) -> None: ...

    def reverse(self, entity: str, remote_id: str) -> str: ...

    def discard(self, entity: str, remote_id: str) -> None: ...


def _refused(step: str, what: str, exc: PermanentError, lifecycle: Lifecycle, draft_left: str = "") -> PostingRefused:
    left = f" The draft {draft_left} could not be withdrawn and is still there." if draft_left else ""
    return PostingRefused(f"{what}: the platform refused to {step} it: {exc.message}.{left}", draft_left=draft_left,
                          platform_code=exc.platform_code or step, http_status=exc.http_status,
                          hint=exc.hint or lifecycle.hint, raw=exc.raw)


def create_posted(lifecycle: Lifecycle, steps: LifecycleSteps, entity: str, create: Callable[[], str],
                  what: str) -> str:
    """``create()`` the draft (returns its id) and post it; the id. ``what`` names the document for staff
    ("invoice 1042"). An entity without a life cycle is only created."""
    remote_id = create()
    if entity not in lifecycle.entities:
        return remote_id
    try:
        steps.post(entity, remote_id)
    except PermanentError as exc:
        left = ""
        try:
            steps.discard(entity, remote_id)
        except SyncError:
            left = remote_id
        raise _refused("post", what, exc, lifecycle, left) from exc
    return remote_id


def finish(lifecycle: Lifecycle, steps: LifecycleSteps, entity: str, remote_id: str, state: str, what: str) -> bool:
    """Post a found document left a draft (its create landed, its post did not); True when it posted it."""
    if entity not in lifecycle.entities or state not in lifecycle.draft:
        return False
    try:
        steps.post(entity, remote_id)
    except PermanentError as exc:
        raise _refused("post", what, exc, lifecycle) from exc
    return True


def revise(lifecycle: Lifecycle, steps: LifecycleSteps, entity: str, remote_id: str, state: str,
           write: Callable[[], None], what: str) -> None:
    """Change a document in ``state``: a posted one is reset to draft, written and posted again; a draft is
    written and posted. A refused write re-posts the old content before the refusal is raised."""
    if entity not in lifecycle.entities:
        write()
        return
    if state in lifecycle.cancelled:
        raise PostingRefused(f"{what} is cancelled on the platform and cannot be changed", platform_code="cancelled",
                             hint="Create a new document, or restore it to draft on the platform first.")
    if state in lifecycle.posted:
        try:
            steps.to_draft(entity, remote_id)
        except PermanentError as exc:
            raise _refused("reset to draft", what, exc, lifecycle) from exc
    try:
        write()
    except SyncError:
        steps.post(entity, remote_id)  # the old content, posted as it was
        raise
    try:
        steps.post(entity, remote_id)
    except PermanentError as exc:
        raise _refused("post", what, exc, lifecycle, remote_id) from exc


def void(lifecycle: Lifecycle, steps: LifecycleSteps, entity: str, remote_id: str, state: str, what: str) -> str:
    """Void a document as the platform declares; the id of what stands for the void (the document itself, or
    its reversal). A cancelled document is left as it is."""
    if state in lifecycle.cancelled:
        return remote_id
    try:
        if lifecycle.void_by == "reverse" and state in lifecycle.posted:
            return steps.reverse(entity, remote_id)
        if state in lifecycle.posted and lifecycle.cancel_from_draft:
            steps.to_draft(entity, remote_id)
        steps.cancel(entity, remote_id)
    except PermanentError as exc:
        raise _refused("void", what, exc, lifecycle) from exc
    return remote_id
