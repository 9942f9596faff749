"""Training runs that are stopped resume from their last checkpoint and end with the same weights."""

import json

import pytest
import torch
from torch import nn

from affectlab.heads.layout import BLOCKS
from affectlab.train.checkpoint import CheckpointMismatch, Checkpoints
from affectlab.train.optim import Optimizer
from affectlab.train.text import TextRecipe, train_text
from conftest import DATA_DIR, needs_data


class Stop(Exception):
    pass


def _stop_after(step: int):
    def on_progress(record: dict) -> None:
        if record.get("task") != "dev" and record["step"] >= step:
            raise Stop
    return on_progress


def _weights(folder) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(folder / "weights.safetensors")


@needs_data
def test_a_stopped_text_run_resumes_to_the_same_weights(tmp_path):
    # 32 texts in batches of 4: 8 GoEmotions, 2 EmoBank and 1 irony step an epoch
    def recipe(out):
        return TextRecipe(data_dir=DATA_DIR, out_dir=out, blocks=BLOCKS, epochs=2, batch_size=4, limit=32,
                          checkpoint_every=4)

    whole = train_text(recipe(tmp_path / "whole"))
    with pytest.raises(Stop):  # in epoch 1, after the checkpoint at step 8
        train_text(recipe(tmp_path / "stopped"), _stop_after(9))
    with pytest.raises(Stop):  # in epoch 2, after the end-of-epoch checkpoint (11) and the one at step 16
        train_text(recipe(tmp_path / "stopped"), _stop_after(17))
    steps = []
    resumed = train_text(recipe(tmp_path / "stopped"), lambda r: steps.append(r["step"]))
    assert steps[0] == 17 and steps[-1] == 22  # nothing before the checkpoint is learned twice
    assert not (tmp_path / "stopped" / "checkpoint").exists()
    assert [h["epoch"] for h in resumed.trained["dev_history"]] == [1, 2]
    assert resumed.thresholds == whole.thresholds
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "stopped")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_checkpoint_of_another_recipe_is_refused(tmp_path):
    model = nn.Linear(3, 2)
    optimizer = Optimizer(model, 1e-3, 1e-3, 0.0, 10, 0.1)
    Checkpoints(tmp_path, 5, TextRecipe(epochs=3, threads=2)).save(5, model, optimizer, [])
    assert Checkpoints(tmp_path, 5, TextRecipe(epochs=3, threads=1)).restore(model, optimizer) == (5, [])
    with pytest.raises(CheckpointMismatch, match="differs in epochs"):
        Checkpoints(tmp_path, 5, TextRecipe(epochs=4)).restore(model, optimizer)
    with pytest.raises(CheckpointMismatch, match="differs in bf16"):  # bfloat16 passes learn other weights
        Checkpoints(tmp_path, 5, TextRecipe(epochs=3, bf16=True)).restore(model, optimizer)


def test_a_checkpoint_from_before_a_recipe_field_existed_resumes_at_its_default(tmp_path):
    model = nn.Linear(3, 2)
    optimizer = Optimizer(model, 1e-3, 1e-3, 0.0, 10, 0.1)
    Checkpoints(tmp_path, 5, TextRecipe(epochs=3)).save(5, model, optimizer, [])
    state_file = tmp_path / "checkpoint" / "state.json"
    state = json.loads(state_file.read_text())
    del state["recipe"]["bf16"]  # written by a version without the field
    state_file.write_text(json.dumps(state))
    assert Checkpoints(tmp_path, 5, TextRecipe(epochs=3)).restore(model, optimizer) == (5, [])
    with pytest.raises(CheckpointMismatch, match="differs in bf16"):
        Checkpoints(tmp_path, 5, TextRecipe(epochs=3, bf16=True)).restore(model, optimizer)


@needs_data
def test_a_bfloat16_run_learns_in_bfloat16_and_records_it(tmp_path):
    def run(name: str, bf16: bool):
        recipe = TextRecipe(data_dir=DATA_DIR, out_dir=tmp_path / name, blocks=BLOCKS, epochs=1, batch_size=4,
                            limit=16, bf16=bf16)
        return train_text(recipe), _weights(tmp_path / name)

    config, half = run("bf16", True)
    _, full = run("fp32", False)
    assert config.trained["recipe"]["bf16"] is True
    assert all(torch.isfinite(w.float()).all() for w in half.values())
    assert any(not torch.equal(half[k], full[k]) for k in half)  # the same seed and data, other arithmetic


def test_a_run_killed_while_saving_keeps_the_previous_checkpoint(tmp_path):
    model = nn.Linear(3, 2)
    optimizer = Optimizer(model, 1e-3, 1e-3, 0.0, 10, 0.1)
    checkpoints = Checkpoints(tmp_path, 5, TextRecipe())
    checkpoints.save(5, model, optimizer, [{"epoch": 1}])
    (tmp_path / "checkpoint").rename(tmp_path / "checkpoint.old")  # killed between the two renames
    (tmp_path / "checkpoint.partial").mkdir()
    assert checkpoints.restore(model, optimizer) == (5, [{"epoch": 1}])
    checkpoints.clear()
    assert not list(tmp_path.iterdir())


@needs_data
def test_a_stopped_turns_run_resumes_to_the_same_weights(tmp_path):
    from affectlab.train.turns import TurnsRecipe, train_turns

    def recipe(out):
        return TurnsRecipe(data_dir=DATA_DIR, out_dir=out, epochs=2, limit=2, goemotions=16, batch_size=2,
                           one_turn_batch_size=8, checkpoint_every=3, threads=1)

    steps = []
    whole = train_turns(recipe(tmp_path / "whole"), lambda r: steps.append((r.get("epoch"), r["step"], r["task"])))
    per_epoch = max(step for epoch, step, task in steps if epoch == 1 and task != "dev")
    assert per_epoch >= 4, steps  # a checkpoint inside each epoch, one at the end of the first
    stop_in_second = per_epoch + 4
    for stop in (4, stop_in_second):
        with pytest.raises(Stop):
            train_turns(recipe(tmp_path / "stopped"), _stop_after(stop))
    resumed_steps = []
    resumed = train_turns(recipe(tmp_path / "stopped"),
                          lambda r: resumed_steps.append(r["step"]) if "epoch" in r else None)
    last_checkpoint = max(per_epoch, stop_in_second - stop_in_second % 3)
    assert resumed_steps[0] == last_checkpoint + 1  # nothing before the checkpoint is learned twice
    assert not (tmp_path / "stopped" / "checkpoint").exists()
    assert [h["epoch"] for h in resumed.trained["dev_history"]] == [1, 2]
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "stopped")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    def dev(config):  # each epoch's calibration and dev scores: epoch 2's read the weights it ended with
        return [{k: v for k, v in h.items() if k != "seconds"} for h in config.trained["dev_history"]]

    assert dev(resumed) == dev(whole) and resumed.trained["kept_epoch"] == whole.trained["kept_epoch"]


@needs_data
def test_a_bfloat16_turns_run_records_it(tmp_path):
    from affectlab.train.turns import TurnsRecipe, train_turns

    config = train_turns(TurnsRecipe(data_dir=DATA_DIR, out_dir=tmp_path / "bf16", epochs=1, limit=2, goemotions=8,
                                     bf16=True, threads=1))
    assert config.trained["recipe"]["bf16"] is True
    assert all(torch.isfinite(w.float()).all() for w in _weights(tmp_path / "bf16").values())


def test_loading_a_model_leaves_the_seeded_generator_alone():
    # a recipe seeds torch, then reads its data with the text model (exporting it to ONNX on a cold cache): the
    # network it then builds must start from the same weights whether or not that export happened
    from affectlab.dialogue.context_model import ContextModel
    from affectlab.registry import ARTIFACTS_DIR, DEFAULTS
    from affectlab.taxonomy import ESCONV_STRATEGIES
    from affectlab.text.artifact import resolve_artifact
    from affectlab.text.model import AffectModel

    torch.manual_seed(13)
    expected = torch.rand(3)
    torch.manual_seed(13)
    AffectModel.from_artifact(resolve_artifact(DEFAULTS["text"]))
    assert torch.equal(torch.rand(3), expected)
    torch.manual_seed(13)
    ContextModel.from_artifact(ARTIFACTS_DIR / DEFAULTS["next-strategy"], len(ESCONV_STRATEGIES))
    assert torch.equal(torch.rand(3), expected)
