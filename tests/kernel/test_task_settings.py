"""Resources, Cache and TaskMetadata: validation and their flyteidl-shaped contracts."""

from __future__ import annotations

import datetime as dt

import pytest

from taskloom.core.base_task import TaskMetadata
from taskloom.core.cache import Cache, normalize_cache
from taskloom.core.resources import (
    Resources,
    ResourceSpec,
    convert_resources_to_resource_model,
    resolve_resources,
)
from taskloom.exceptions.user import ValidationError
from taskloom.models import task as task_models
from taskloom.models.converter import from_json, to_json

CPU, MEMORY, GPU, EPHEMERAL = (
    task_models.ResourceName.CPU,
    task_models.ResourceName.MEMORY,
    task_models.ResourceName.GPU,
    task_models.ResourceName.EPHEMERAL_STORAGE,
)


def entry(name, value):
    return task_models.ResourceEntry(name=name, value=value)


def test_requests_and_limits_become_resource_entries():
    model = convert_resources_to_resource_model(
        requests=Resources(cpu="500m", mem="1Gi"), limits=Resources(cpu=2, gpu=1, ephemeral_storage="10Gi")
    )
    assert model.requests == (entry(CPU, "500m"), entry(MEMORY, "1Gi"))
    assert model.limits == (entry(CPU, "2"), entry(GPU, "1"), entry(EPHEMERAL, "10Gi"))
    assert from_json(to_json(model), task_models.Resources) == model


def test_a_pair_is_request_and_limit():
    spec = ResourceSpec.from_multiple_resource(Resources(cpu=("1", "2"), mem="2Gi"))
    assert spec == ResourceSpec(requests=Resources(cpu="1", mem="2Gi"), limits=Resources(cpu="2"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cpu": ("1", "2", "3")}, r"cpu=\('1', '2', '3'\) must be one value or a \(request, limit\) pair"),
        ({"mem": 1.5}, "mem expects str or int, got float 1.5"),
        ({"gpu": True}, "gpu expects str or int, got bool True"),
        ({"ephemeral_storage": ("1Gi", "2Gi")}, "ephemeral_storage=.* must be one value"),
    ],
)
def test_invalid_resources_name_the_field(arguments, message):
    with pytest.raises(ValidationError, match=message):
        Resources(**arguments)


def test_resources_cannot_be_combined_with_requests_or_limits():
    with pytest.raises(ValidationError, match="task 'train': give either resources= or requests=/limits="):
        resolve_resources(requests=Resources(cpu="1"), resources=Resources(cpu="1"), entity="task 'train'")


def test_requests_take_single_values_only():
    with pytest.raises(ValidationError, match="requests= takes single values"):
        resolve_resources(requests=Resources(cpu=("1", "2")))


def test_no_resources_resolve_to_none():
    assert resolve_resources() is None
    assert resolve_resources(limits=Resources(mem="1Gi")) == ResourceSpec(
        requests=Resources(), limits=Resources(mem="1Gi")
    )


def test_cache_true_folds_the_legacy_arguments():
    assert normalize_cache(True, cache_version="2", cache_serialize=True, cache_ignore_input_vars=("seed",)) == Cache(
        version="2", serialize=True, ignored_inputs=("seed",)
    )
    assert normalize_cache(True) == Cache(version=None)
    assert normalize_cache(False) is None


def test_a_cache_object_is_taken_as_it_is_and_a_single_ignored_input_becomes_a_tuple():
    cache = Cache(version="1", ignored_inputs="seed")
    assert cache.ignored_inputs == ("seed",)
    assert normalize_cache(cache) is cache


@pytest.mark.parametrize(
    ("cache", "arguments", "message"),
    [
        (False, {"cache_serialize": True}, "task 'x': cache_serialize needs cache=True"),
        (None, {"cache_version": "1"}, "cache_version needs cache=True"),
        (Cache(version="1"), {"cache_version": "2"}, "cache_version cannot be combined with cache=Cache"),
    ],
)
def test_contradictory_cache_arguments_are_errors(cache, arguments, message):
    with pytest.raises(ValidationError, match=message):
        normalize_cache(cache, entity="task 'x'", **arguments)


def test_task_metadata_becomes_the_contract():
    metadata = TaskMetadata(
        cache=True,
        cache_serialize=True,
        cache_version="3",
        cache_ignore_input_vars=["seed"],
        interruptible=True,
        deprecated="use train_v2",
        retries=2,
        timeout=90,
        pod_template_name="gpu-pod",
        generates_deck=True,
        labels={"team": "ml"},
    )
    model = metadata.to_taskmetadata_model()
    assert model.discoverable is True and model.discovery_version == "3" and model.cache_serializable is True
    assert model.cache_ignore_input_vars == ("seed",)
    assert model.retries.retries == 2 and model.timeout == dt.timedelta(seconds=90)
    assert model.interruptible is True and model.generates_deck is True
    assert model.deprecated_error_message == "use train_v2" and model.pod_template_name == "gpu-pod"
    assert model.runtime.type is task_models.RuntimeType.FLYTE_SDK and model.runtime.flavor == "python"
    assert model.metadata.labels == {"team": "ml"}
    assert from_json(to_json(model), task_models.TaskMetadata) == model


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"retries": -1}, "retries expects a non-negative int, got -1"),
        ({"timeout": "10"}, "timeout expects a timedelta or seconds"),
        ({"timeout": 0}, "timeout must be positive"),
        ({"cache_serialize": True}, "need cache=True"),
    ],
)
def test_invalid_task_metadata_is_an_error(arguments, message):
    with pytest.raises(ValidationError, match=message):
        TaskMetadata(**arguments)
