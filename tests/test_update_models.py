"""Each Update model is the partial form of its Create model: exactly the fields an update may
change, each optional, of the same type. The rule, from `server/records/resource.py`: the Update
holds the Create fields except the create-only client `id` (`CREATE_ONLY`) and the resource's
`fixed` fields (its identity, set once), plus the `version` the edit was based on."""

from __future__ import annotations

from typing import Optional

import pytest

from server.models.auth import UserCreate, UserUpdate
from server.records.registry import RESOURCES
from server.records.resource import CREATE_ONLY

MASTER = [r for r in RESOURCES if not r.is_event]
# Users are served by server/api/admin.py, not from a resource description: the sign-in name is
# fixed once the account exists.
USER_FIXED = {"username"}


def _pairs():
    for r in MASTER:
        yield pytest.param(r.create, r.update, set(r.editable), id=r.path)
    yield pytest.param(UserCreate, UserUpdate, set(UserCreate.model_fields) - CREATE_ONLY - USER_FIXED, id="users")


def test_every_master_record_has_an_update_model_and_events_none():
    assert MASTER and all(r.update is not None for r in MASTER)
    assert all(r.update is None for r in RESOURCES if r.is_event)


@pytest.mark.parametrize("create,update,editable", list(_pairs()))
def test_update_holds_exactly_the_editable_fields(create, update, editable):
    assert set(update.model_fields) - {"version"} == editable
    assert update.model_fields["version"].is_required()


@pytest.mark.parametrize("create,update,editable", list(_pairs()))
def test_each_update_field_is_the_create_field_made_optional(create, update, editable):
    for name in editable:
        wanted = create.model_fields[name].annotation
        field = update.model_fields[name]
        assert field.annotation in (Optional[wanted], wanted), name
        assert not field.is_required() and field.default is None, name


@pytest.mark.parametrize("resource", MASTER, ids=lambda r: r.path)
def test_fixed_fields_are_fields_of_the_record(resource):
    assert resource.fixed <= set(resource.field_names)
