"""TrainConfig validation and the command line's training options."""

import argparse
import json

import pytest

from studio.errors import TrainingError
from studio.train import TrainConfig, add_train_arguments, apply_overrides
from studio.train.config import LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULE_NAMES, field_names


def test_defaults_round_trip_through_json():
    config = TrainConfig()
    d = json.loads(json.dumps(config.to_dict()))
    assert TrainConfig.from_dict(d) == config
    assert set(d) == set(field_names())


def test_from_dict_keeps_values_and_converts_ints_to_floats():
    config = TrainConfig.from_dict({"lr": 1, "optimizer": "sgd", "nesterov": True,
                                    "epochs": 3, "betas": [0.8, 0.9]})
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert (config.optimizer, config.nesterov, config.epochs) == ("sgd", True, 3)
    assert config.betas == [0.8, 0.9]


def test_unknown_key_is_named_with_allowed_keys():
    with pytest.raises(TrainingError) as err:
        TrainConfig.from_dict({"lrr": 0.1})
    assert "'lrr'" in str(err.value) and "batch_size" in str(err.value)


@pytest.mark.parametrize("key,value,words", [
    ("optimizer", "adamx", ["training.optimizer", "adamx", "sgd, adam, adamw, rmsprop"]),
    ("loss", "hinge", ["training.loss", "cross_entropy"]),
    ("schedule", "linear", ["training.schedule", "onecycle"]),
    ("lr", 0, ["training.lr", "> 0"]),
    ("lr", "fast", ["training.lr", "'fast'"]),
    ("epochs", 2.5, ["training.epochs", "integer"]),
    ("batch_size", 0, ["training.batch_size", ">= 1"]),
    ("nesterov", "yes", ["training.nesterov", "true or false"]),
    ("mixed_precision", "fp16", ["training.mixed_precision", "auto"]),
    ("device", "tpu", ["training.device", "cuda:N"]),
    ("betas", [0.9], ["training.betas"]),
    ("early_stop_mode", "up", ["training.early_stop_mode", "min, max"]),
    ("early_stop_metric", "accuracy", ["training.early_stop_metric", "val_loss"]),
    ("recipe", "gan_later", ["training.recipe", "supervised"]),
    ("epochs", True, ["training.epochs"]),
])
def test_bad_values_name_the_key_and_what_is_allowed(key, value, words):
    with pytest.raises(TrainingError) as err:
        TrainConfig.from_dict({key: value})
    for word in words:
        assert word in str(err.value)


def test_rules_between_fields():
    with pytest.raises(TrainingError, match="warmup_epochs"):
        TrainConfig.from_dict({"epochs": 2, "warmup_epochs": 2})
    with pytest.raises(TrainingError, match="nesterov"):
        TrainConfig.from_dict({"optimizer": "sgd", "nesterov": True, "momentum": 0})


def test_choice_lists_are_the_documented_ones():
    assert set(LOSS_NAMES) == {"auto", "cross_entropy", "bce", "bce_logits", "mse", "l1",
                               "kl_div", "nll"}
    assert set(OPTIMIZER_NAMES) == {"sgd", "adam", "adamw", "rmsprop"}
    assert set(SCHEDULE_NAMES) == {"none", "step", "cosine", "onecycle", "plateau"}


def _args(*argv):
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(list(argv))


def test_command_line_options_parse():
    args = _args("--data", "digits", "--epochs", "3", "--device", "cpu", "--nproc", "2",
                 "--out", "runs/x", "--set", "lr=0.01", "--set", "data.val_split=0.1",
                 "--resume", "runs/x/last.pt")
    assert (args.data, args.epochs, args.device, args.nproc) == ("digits", 3, "cpu", 2)
    assert (args.out, args.resume) == ("runs/x", "runs/x/last.pt")
    assert args.overrides == ["lr=0.01", "data.val_split=0.1"]
    assert _args().nproc == 1


def test_apply_overrides_parses_json_values_and_routes_data_keys():
    args = _args("--epochs", "4", "--device", "cpu", "--data", "digits",
                 "--set", "lr=0.01", "--set", "batch_size=32", "--set", "optimizer=sgd",
                 "--set", "nesterov=true", "--set", "data.val_split=0.1",
                 "--set", "training.betas=[0.8, 0.9]")
    training_in, data_in = {"lr": 0.5}, {"source": "csv", "seed": 3}
    training, data = apply_overrides(training_in, data_in, args)
    assert training == {"lr": 0.01, "epochs": 4, "device": "cpu", "batch_size": 32,
                        "optimizer": "sgd", "nesterov": True, "betas": [0.8, 0.9]}
    assert data == {"source": "digits", "seed": 3, "val_split": 0.1}
    assert training_in == {"lr": 0.5} and data_in == {"source": "csv", "seed": 3}


def test_data_overrides_reach_nested_settings_without_touching_the_input():
    data_in = {"augment": {"flip": False, "noise": 0.1}}
    _, data = apply_overrides({}, data_in, _args("--set", "data.augment.flip=true",
                                                 "--set", "data.normalize=false"))
    assert data == {"augment": {"flip": True, "noise": 0.1}, "normalize": False}
    assert data_in == {"augment": {"flip": False, "noise": 0.1}}


def test_apply_overrides_refuses_unknown_keys_and_bad_values():
    with pytest.raises(TrainingError, match="'lrr'"):
        apply_overrides({}, {}, _args("--set", "lrr=0.1"))
    with pytest.raises(TrainingError, match="KEY=VALUE"):
        apply_overrides({}, {}, _args("--set", "lr"))
    with pytest.raises(TrainingError, match="training.lr"):
        apply_overrides({}, {}, _args("--set", "lr=abc"))
