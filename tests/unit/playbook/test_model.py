"""The Playbook API: lookups, duplicate ids, immutability (`playbook.model`)."""

from __future__ import annotations

import pytest

from cockpit.domain.errors import NotFound
from cockpit.domain.playbook import Item, Playbook, Step


def _small() -> Playbook:
    a = Item("a", "A", step_id="s1")
    b = Item("b", "B", action="create-ticket", step_id="s1")
    c = Item("c", "C", action="create-ticket", step_id="s2")
    return Playbook("small", (Step("s1", "S1", items=(a, b)), Step("s2", "S2", items=(c,))))


def test_playbook_lookups() -> None:
    pb = _small()
    assert [i.id for i in pb.items] == ["a", "b", "c"]
    assert pb.item("b").text == "B"
    assert pb.step_of("c").id == "s2"
    assert pb.step("s1").title == "S1"
    assert [i.id for i in pb.items_with_action("create-ticket")] == ["b", "c"]
    assert pb.items_with_action("escalate") == ()


def test_playbook_lookups_of_unknown_ids_raise_not_found() -> None:
    pb = _small()
    with pytest.raises(NotFound, match="'zzz'"):
        pb.item("zzz")
    with pytest.raises(NotFound, match="'zzz'"):
        pb.step_of("zzz")
    with pytest.raises(NotFound, match="'zzz'"):
        pb.step("zzz")


def test_playbook_built_by_hand_refuses_duplicate_item_ids() -> None:
    with pytest.raises(ValueError, match="duplicate item id 'a'"):
        Playbook("dup", (Step("s", "S", items=(Item("a", "A"), Item("a", "again"))),))


def test_playbook_is_immutable() -> None:
    pb = _small()
    with pytest.raises(AttributeError):
        pb.name = "other"  # type: ignore[misc]
