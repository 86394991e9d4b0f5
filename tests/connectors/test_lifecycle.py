"""The kit's draft -> posted life cycle (``connectors.lifecycle``) against a platform kept in a dict."""
import pytest

from connectors import lifecycle as lc
from connectors.errors import PostingRefused, RetryableError, ValidationFailed

CYCLE = lc.Lifecycle(entities=frozenset({"invoice"}), hint="Reopen the period.")


class Steps:
    """Documents by id with a state; ``refuse`` makes a step fail once with a platform refusal."""

    def __init__(self) -> None:
        self.docs, self.calls, self.refuse, self.next_id = {}, [], {}, 1

    def create(self, content="v1") -> str:
        rid, self.next_id = str(self.next_id), self.next_id + 1
        self.docs[rid] = {"state": "draft", "content": content}
        return rid

    def _step(self, name, rid, state, allowed):
        self.calls.append((name, rid))
        if name in self.refuse:
            raise self.refuse.pop(name)
        assert self.docs[rid]["state"] in allowed, f"{name} of a {self.docs[rid]['state']} document"
        if state:
            self.docs[rid]["state"] = state

    def state(self, entity, rid):
        return self.docs[rid]["state"]

    def post(self, entity, rid):
        self._step("post", rid, "posted", {"draft"})

    def to_draft(self, entity, rid):
        self._step("to_draft", rid, "draft", {"posted", "cancel"})

    def cancel(self, entity, rid):
        self._step("cancel", rid, "cancel", {"draft"})

    def reverse(self, entity, rid):
        self._step("reverse", rid, None, {"posted"})
        return self.create("reversal")

    def discard(self, entity, rid):
        self._step("discard", rid, None, {"draft"})
        del self.docs[rid]


def test_create_posts_the_draft():
    steps = Steps()
    rid = lc.create_posted(CYCLE, steps, "invoice", steps.create, "invoice 7")
    assert steps.docs[rid]["state"] == "posted" and steps.calls == [("post", rid)]


def test_an_entity_without_a_life_cycle_is_only_created():
    steps = Steps()
    rid = lc.create_posted(CYCLE, steps, "customer", steps.create, "customer Ann")
    assert steps.docs[rid]["state"] == "draft" and steps.calls == []


def test_a_refused_post_withdraws_the_draft_and_says_what_and_why():
    steps = Steps()
    steps.refuse["post"] = ValidationFailed("The period is locked", platform_code="lock_date")
    with pytest.raises(PostingRefused) as info:
        lc.create_posted(CYCLE, steps, "invoice", steps.create, "invoice 7")
    assert steps.docs == {} and info.value.platform_code == "lock_date" and not info.value.draft_left
    assert "invoice 7" in info.value.message and "refused to post" in info.value.message
    assert "period is locked" in info.value.message and info.value.hint == "Reopen the period."


def test_a_draft_that_cannot_be_withdrawn_is_named():
    steps = Steps()
    steps.refuse.update(post=ValidationFailed("locked"), discard=RetryableError("reset"))
    with pytest.raises(PostingRefused) as info:
        lc.create_posted(CYCLE, steps, "invoice", steps.create, "invoice 7")
    assert info.value.draft_left == "1" and "still there" in info.value.message


def test_a_retryable_post_failure_is_left_to_the_pipeline_and_finish_posts_the_found_draft():
    steps = Steps()
    steps.refuse["post"] = RetryableError("timed out")
    with pytest.raises(RetryableError):
        lc.create_posted(CYCLE, steps, "invoice", steps.create, "invoice 7")
    assert steps.docs["1"]["state"] == "draft"  # the retry's search-before-create finds it
    assert lc.finish(CYCLE, steps, "invoice", "1", "draft", "invoice 7")
    assert steps.docs["1"]["state"] == "posted"
    assert not lc.finish(CYCLE, steps, "invoice", "1", "posted", "invoice 7")


def test_revise_resets_writes_and_posts_again():
    steps = Steps()
    rid = lc.create_posted(CYCLE, steps, "invoice", steps.create, "invoice 7")
    lc.revise(CYCLE, steps, "invoice", rid, "posted", lambda: steps.docs[rid].update(content="v2"), "invoice 7")
    assert steps.docs[rid] == {"state": "posted", "content": "v2"}
    assert [c for c, _ in steps.calls] == ["post", "to_draft", "post"]


def test_a_refused_write_posts_the_old_content_again():
    steps = Steps()
    rid = lc.create_posted(CYCLE, steps, "invoice", steps.create, "invoice 7")

    def write():
        raise ValidationFailed("unknown account")
    with pytest.raises(ValidationFailed):
        lc.revise(CYCLE, steps, "invoice", rid, "posted", write, "invoice 7")
    assert steps.docs[rid] == {"state": "posted", "content": "v1"}


def test_a_refused_reset_is_a_posting_refusal_and_a_cancelled_document_is_not_revised():
    steps = Steps()
    rid = lc.create_posted(CYCLE, steps, "invoice", steps.create, "invoice 7")
    steps.refuse["to_draft"] = ValidationFailed("reconciled with a payment")
    with pytest.raises(PostingRefused, match="reset to draft"):
        lc.revise(CYCLE, steps, "invoice", rid, "posted", lambda: None, "invoice 7")
    with pytest.raises(PostingRefused, match="cancelled"):
        lc.revise(CYCLE, steps, "invoice", rid, "cancel", lambda: None, "invoice 7")


def test_void_by_cancel_resets_first_and_void_by_reverse_posts_a_reversal():
    steps = Steps()
    rid = lc.create_posted(CYCLE, steps, "invoice", steps.create, "invoice 7")
    assert lc.void(CYCLE, steps, "invoice", rid, "posted", "invoice 7") == rid
    assert steps.docs[rid]["state"] == "cancel"
    assert lc.void(CYCLE, steps, "invoice", rid, "cancel", "invoice 7") == rid  # already: nothing sent
    reversing = lc.Lifecycle(entities=frozenset({"invoice"}), void_by="reverse")
    other = lc.create_posted(reversing, steps, "invoice", steps.create, "invoice 8")
    reversal = lc.void(reversing, steps, "invoice", other, "posted", "invoice 8")
    assert reversal != other and steps.docs[reversal]["content"] == "reversal"
    with pytest.raises(ValueError):
        lc.Lifecycle(entities=frozenset(), void_by="delete")
