"""The artifact registry: every shipped artifact found by name and task, one config format, clear errors."""

import json

import pytest

from affectlab.internals import steering_settings
from affectlab.registry import (
    CARD_FILE,
    DEFAULTS,
    SHIPPED,
    TASKS,
    ModelNotFound,
    read_config,
    resolve,
    shipped,
    write_config,
)


def test_every_shipped_artifact_resolves_with_its_config_card_and_weights():
    infos = shipped()
    assert [a.name for a in infos] == [s.name for s in SHIPPED]
    assert set(DEFAULTS) == set(TASKS)
    for info in infos:
        assert resolve(info.name, info.task) == info.folder
        config = read_config(info.folder)
        assert (config["name"], config["task"]) == (info.name, info.task)
        assert config["trained"], f"{info.name} has no provenance"
        assert (info.folder / CARD_FILE).read_text(encoding="utf-8").strip()
        assert info.size_bytes > 100_000
        json.dumps(info.to_dict())


def test_an_artifact_in_a_package_that_is_not_installed_says_what_to_install(monkeypatch):
    from affectlab import registry

    missing = registry.Shipped("responder-elsewhere", "responder", "none", package="affectlab-no-such-package",
                               extra="llm")
    monkeypatch.setattr(registry, "SHIPPED", (*registry.SHIPPED, missing))
    assert "responder-elsewhere" not in [a.name for a in shipped()]
    with pytest.raises(ModelNotFound, match=r"comes in the package affectlab-no-such-package, which is not "
                                            r"installed: pip install 'affectlab\[llm\]'"):
        resolve("responder-elsewhere", "responder")


def test_the_responder_adapter_comes_from_its_own_package():
    info = next(a for a in shipped() if a.task == "responder")
    assert "affectlab_responder_gemma3_270m" in info.folder.parts and info.size_bytes < 20_000_000
    config = read_config(info.folder)
    assert config["base"] == "gemma3-270m" and config["rank"] > 0 and config["trained"]["best_dev_loss"] < \
        config["trained"]["base_dev_loss"]


def test_a_model_of_another_task_or_an_unknown_name_is_refused_by_name():
    with pytest.raises(ModelNotFound, match="is a turn-emotions artifact, not a text one"):
        resolve("dialogue-turns-minilm", "text")
    with pytest.raises(ModelNotFound, match="no causes model 'missing'; shipped: dialogue-causes-minilm"):
        resolve("missing", "causes")


def test_a_users_folder_resolves_and_an_old_config_without_task_is_a_text_model(tmp_path):
    from safetensors.numpy import save_file

    (tmp_path / "config.json").write_text(json.dumps({"name": "mine"}), encoding="utf-8")
    save_file({}, str(tmp_path / "weights.safetensors"))
    assert resolve(tmp_path, "text") == tmp_path
    assert read_config(tmp_path)["task"] == "text"
    with pytest.raises(ModelNotFound, match="is a text artifact"):
        resolve(tmp_path, "causes")


def test_configs_are_written_whole_and_checked(tmp_path):
    write_config(tmp_path, {"name": "mine", "task": "causes", "threshold": 0.3})
    assert read_config(tmp_path) == {"name": "mine", "task": "causes", "threshold": 0.3}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temporary file left behind
    with pytest.raises(ValueError, match="task must be one of"):
        write_config(tmp_path, {"name": "mine", "task": "poetry"})
    (tmp_path / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelNotFound, match="not a readable artifact config"):
        read_config(tmp_path)


def test_the_directions_artifact_says_how_it_is_applied():
    settings = steering_settings()
    assert settings.layers and set(settings.strengths) == set(settings.remove_shared)
    assert settings.strength("joy") == settings.strengths["joy"]
    assert settings.strength("awe") == settings.other_strength
