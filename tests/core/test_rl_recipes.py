"""RL presets and recipes: dqn_cartpole (DQN) and actor_critic (A2C) on gymnasium's CartPole-v1."""

import math

import pytest
import torch
from torch import nn

from studio.compile import compile_network
from studio.errors import TrainingError
from studio.graph import Analyzer, io
from studio.presets import resolve
from studio.train import Trainer
from studio.train.config import TrainConfig
from studio.train.events import BatchEnded, EpochEnded, RunFailed
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.recipes import dqn
from studio.train.recipes.actor_critic import n_step_returns
from studio.train.recipes.dqn import linear_epsilon, td_targets
from studio.train.rl_env import (
    BEST_SEED_BASE,
    BestWeights,
    ReplayBuffer,
    evaluate_greedy,
)
from tests.core.test_train_support import one_thread  # noqa: F401  (autouse fixture)

SHORT_DQN = {"env_steps": 300, "learning_starts": 64, "batch_size": 16, "eval_episodes": 2,
             "epsilon_decay_steps": 400, "target_update": 50}
SHORT_AC = {"env_steps": 320, "num_envs": 4, "rollout_steps": 5, "eval_episodes": 2}


def run(name, training, epochs=1, out_dir=None, callback=None, models=None, resume_from=None):
    """Train preset ``name`` for ``epochs`` on the CPU; (EpochEnded metrics, the last event, models)."""
    project = io.load(resolve(name))
    training = {**project.training, **training, "epochs": epochs, "device": "cpu"}
    torch.manual_seed(0)
    models = models or models_for(project, training)
    seen = []

    def listen(event):
        if isinstance(event, EpochEnded):
            seen.append(event.metrics)
        if callback:
            callback(event)
    trainer = Trainer(models, data_for(project, training, project.data), optimiser_settings(training),
                      listen, out_dir=out_dir, resume_from=resume_from)
    return seen, trainer.run(), models, trainer


@pytest.mark.parametrize("name, networks", [("dqn_cartpole", ["q_network"]),
                                            ("actor_critic", ["policy", "value"])])
def test_rl_presets_load_analyse_and_compile(name, networks):
    project = io.load(resolve(name))
    assert list(project.networks) == networks and project.metadata["task"] == "reinforcement"
    assert project.training["env"] == "CartPole-v1"
    TrainConfig.from_dict(optimiser_settings(project.training))
    for net in networks:
        report = Analyzer(project).analyse(net)
        assert report.ok, [str(p) for p in report.problems]
        model = compile_network(project, net)
        model.graph.lint()
        assert model(torch.zeros(3, 4)).shape == (3, 1 if net == "value" else 2)


def test_dqn_trains_a_short_epoch_with_finite_losses_and_returns():
    seen, result, _, trainer = run("dqn_cartpole", SHORT_DQN)
    assert result.reason == "completed", result
    m = seen[-1]
    assert m["train_loss"] > 0 and math.isfinite(m["train_loss"])  # updates happened
    assert m["episode_returns"] and all(r >= 1 for r in m["episode_returns"])
    assert m["episode_return"] == pytest.approx(sum(m["episode_returns"]) / len(m["episode_returns"]))
    assert math.isfinite(m["val_return"]) and m["val_return"] >= 1
    assert m["epsilon"] == pytest.approx(linear_epsilon(300, 1.0, 0.02, 400))
    assert trainer.recipe.step == 300 and trainer.recipe.updates == 300 - 63


def test_actor_critic_trains_a_short_epoch_with_finite_losses_and_returns():
    seen, result, models, trainer = run("actor_critic", SHORT_AC)
    assert result.reason == "completed", result
    m = seen[-1]
    for key in ("train_loss", "train_policy_loss", "train_value_loss", "train_entropy", "val_return",
                "episode_return"):
        assert math.isfinite(m[key]), key
    assert 0 < m["train_entropy"] <= math.log(2) + 1e-6
    assert m["episode_returns"] and trainer.recipe.env_steps == 320 and trainer.recipe.updates == 16
    assert set(models) == {"policy", "value"}


def test_td_targets_q_learning_sarsa_and_expected_sarsa_on_a_hand_made_batch():
    rewards = torch.tensor([1.0, 1.0, 0.5])
    dones = torch.tensor([0.0, 0.0, 1.0])
    next_q = torch.tensor([[2.0, 5.0], [4.0, 3.0], [9.0, 9.0]])
    next_actions = torch.tensor([0, 1, 0])  # the behaviour policy explored in the first two
    q = td_targets("q_learning", rewards, dones, next_q, next_actions, 0.5)
    s = td_targets("sarsa", rewards, dones, next_q, next_actions, 0.5)
    e = td_targets("expected_sarsa", rewards, dones, next_q, next_actions, 0.5, epsilon=0.2)
    assert q.tolist() == [1 + 0.5 * 5, 1 + 0.5 * 4, 0.5]   # max over next actions
    assert s.tolist() == [1 + 0.5 * 2, 1 + 0.5 * 3, 0.5]   # the action actually taken
    assert e.tolist() == pytest.approx([1 + 0.5 * (0.8 * 5 + 0.2 * 3.5), 1 + 0.5 * (0.8 * 4 + 0.2 * 3.5), 0.5])
    with pytest.raises(TrainingError, match="td_target"):
        td_targets("double", rewards, dones, next_q, next_actions, 0.5)


def test_double_dqn_targets_pick_with_the_online_network_and_value_with_the_target():
    rewards, dones = torch.tensor([1.0, 1.0, 0.5]), torch.tensor([0.0, 0.0, 1.0])
    target_q = torch.tensor([[2.0, 5.0], [4.0, 3.0], [9.0, 9.0]])
    online_q = torch.tensor([[7.0, 1.0], [0.0, 6.0], [1.0, 2.0]])  # prefers the other action in each row
    actions = torch.tensor([1, 1, 0])
    q = td_targets("q_learning", rewards, dones, target_q, actions, 0.5, online_next_q=online_q)
    assert q.tolist() == [1 + 0.5 * 2, 1 + 0.5 * 3, 0.5]  # target values of the online argmax
    e = td_targets("expected_sarsa", rewards, dones, target_q, actions, 0.5, epsilon=0.2, online_next_q=online_q)
    assert e.tolist() == pytest.approx([1 + 0.5 * (0.8 * 2 + 0.2 * 3.5), 1 + 0.5 * (0.8 * 3 + 0.2 * 3.5), 0.5])
    s = td_targets("sarsa", rewards, dones, target_q, actions, 0.5, online_next_q=online_q)
    assert s.tolist() == [1 + 0.5 * 5, 1 + 0.5 * 3, 0.5]  # SARSA has no greedy action to pick
    same = td_targets("q_learning", rewards, dones, target_q, actions, 0.5, online_next_q=target_q)
    assert torch.equal(same, td_targets("q_learning", rewards, dones, target_q, actions, 0.5))


def test_best_weights_keep_the_best_copy_and_prefer_the_later_on_a_tie():
    net = nn.Linear(2, 2)
    best = BestWeights()
    assert not best.restore(net)  # nothing kept yet
    with torch.no_grad():
        net.weight.fill_(1.0)
    assert best.offer(100.0, net, step=10)
    with torch.no_grad():
        net.weight.fill_(2.0)  # the kept copy is a copy, not the live tensor
    assert not best.offer(50.0, net, step=20) and best.value == 100.0 and best.step == 10
    with torch.no_grad():
        net.weight.fill_(3.0)
    assert best.offer(100.0, net, step=30) and best.step == 30
    with torch.no_grad():
        net.weight.fill_(4.0)
    assert best.restore(net) and torch.all(net.weight == 3.0)
    again = BestWeights()
    again.load_state_dict(best.state_dict())
    assert again.value == 100.0 and again.step == 30 and torch.equal(again.weights["weight"], net.weight)


def test_n_step_returns_bootstrap_and_stop_at_episode_ends():
    rewards = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    dones = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    out = n_step_returns(rewards, dones, torch.tensor([10.0, 10.0]), 0.5)
    assert out[:, 0].tolist() == [1 + 0.5 * (1 + 0.5 * (1 + 0.5 * 10)), 1 + 0.5 * (1 + 0.5 * 10), 1 + 0.5 * 10]
    assert out[:, 1].tolist() == [1 + 0.5 * 1, 1.0, 1 + 0.5 * 10]


def test_replay_buffer_stores_wraps_and_samples_whole_transitions():
    buf = ReplayBuffer(capacity=5, obs_dim=2)
    for i in range(7):  # 7 pushes into 5 slots: 0 and 1 are overwritten
        buf.push([i, -i], i % 2, float(i), [i + 1, -i - 1], i == 6, (i + 1) % 2)
    assert len(buf) == 5 and buf.pos == 2
    assert sorted(buf.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]
    b = buf.sample(200, torch.Generator().manual_seed(0))
    assert b["obs"].shape == (200, 2) and b["actions"].dtype == torch.long
    i = b["rewards"]
    assert set(i.tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}  # every stored one, nothing else
    assert torch.equal(b["obs"][:, 0], i) and torch.equal(b["next_obs"][:, 0], i + 1)
    assert torch.equal(b["actions"], i.long() % 2) and torch.equal(b["next_actions"], (i.long() + 1) % 2)
    assert torch.equal(b["dones"], (i == 6).float())
    again = buf.sample(200, torch.Generator().manual_seed(0))
    assert torch.equal(again["rewards"], b["rewards"])
    with pytest.raises(ValueError):
        ReplayBuffer(3, 2).sample(1)


def test_greedy_evaluation_and_a_seeded_run_are_deterministic():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2))
    a = evaluate_greedy(net, "CartPole-v1", [5, 6, 7])
    assert a == evaluate_greedy(net, "CartPole-v1", [5, 6, 7])
    assert all(r >= 1 for r in a)
    first, _, _, _ = run("dqn_cartpole", {**SHORT_DQN, "env_steps": 150})
    second, _, _, _ = run("dqn_cartpole", {**SHORT_DQN, "env_steps": 150})
    keys = ("train_loss", "val_return", "episode_returns")
    assert [first[0][k] for k in keys] == [second[0][k] for k in keys]
    other, _, _, _ = run("dqn_cartpole", {**SHORT_DQN, "env_steps": 150, "seed": 3})
    assert other[0]["episode_returns"] != first[0]["episode_returns"]


def test_dqn_checkpoint_resumes_counters_target_and_optimizer(tmp_path):
    _, result, _, first = run("dqn_cartpole", {**SHORT_DQN, "env_steps": 120}, epochs=2, out_dir=tmp_path)
    assert result.reason == "completed"
    ckpt = tmp_path / "checkpoint_epoch1.pt"
    state = torch.load(ckpt, weights_only=True)["recipe"]
    assert state["step"] == 120 and state["updates"] == 120 - 63
    assert set(state["target"]) == set(first.recipe.q.state_dict()) and state["optimizer"]["state"]
    seen, result, _, resumed = run("dqn_cartpole", {**SHORT_DQN, "env_steps": 120}, epochs=2,
                                   out_dir=tmp_path / "again", resume_from=ckpt)
    assert result.reason == "completed" and [m["epoch"] for m in seen] == [2]
    assert resumed.recipe.step == 240 == first.recipe.step
    # The replay buffer is not in the checkpoint: it refills to learning_starts before updates resume.
    assert resumed.recipe.updates == state["updates"] + 120 - 63 < first.recipe.updates
    assert seen[0]["epsilon"] == pytest.approx(linear_epsilon(240, 1.0, 0.02, 400))


def test_dqn_ends_the_run_with_the_best_checked_weights(monkeypatch):
    checked = []  # the weights at each greedy check
    scores = [50.0, 80.0, 30.0]  # the second check (step 200) is the best

    def fake_greedy(model, env, seeds, device):
        if seeds[0] < BEST_SEED_BASE:  # the validation episodes play for real
            return evaluate_greedy(model, env, seeds, device)
        checked.append({k: v.clone() for k, v in model.state_dict().items()})
        return [scores[len(checked) - 1]] * len(seeds)
    monkeypatch.setattr(dqn, "evaluate_greedy", fake_greedy)
    training = {**SHORT_DQN, "best_eval_every": 100, "best_eval_episodes": 2}
    seen, result, models, trainer = run("dqn_cartpole", training)
    assert result.reason == "completed" and len(checked) == 3  # steps 100, 200 and 300 (the last)
    assert trainer.recipe.best.step == 200 and seen[-1]["best_return"] == 80.0
    final = models["model"].state_dict()
    assert any(not torch.equal(final[k], checked[2][k]) for k in final)  # training moved on after 200
    for name, value in final.items():
        assert torch.equal(value, checked[1][name]), name
        assert torch.equal(trainer.recipe.target.state_dict()[name], value), name
    off, _, _, plain = run("dqn_cartpole", {**training, "restore_best": False})
    assert len(checked) == 3 and plain.recipe.best.value is None and "best_return" not in off[-1]


def test_stop_and_the_nan_guard_reach_rl_runs():
    trainer_box = {}

    def stop_at_first_batch(event):
        if isinstance(event, BatchEnded):
            trainer_box["t"].stop()
    project = io.load(resolve("dqn_cartpole"))
    training = {**project.training, **SHORT_DQN, "epochs": 2, "device": "cpu"}
    trainer = Trainer(models_for(project, training), data_for(project, training, {}),
                      optimiser_settings(training), stop_at_first_batch, event_interval=0.0)
    trainer_box["t"] = trainer
    assert trainer.run().reason == "stopped" and trainer.recipe.step < 300
    models = models_for(project, training)
    with torch.no_grad():
        next(models["model"].parameters()).fill_(float("nan"))
    _, result, _, _ = run("dqn_cartpole", SHORT_DQN, models=models)
    assert isinstance(result, RunFailed) and result.epoch == 1 and result.batch == 64


def test_rl_settings_are_checked():
    with pytest.raises(TrainingError, match="td_target"):
        TrainConfig.from_dict({"recipe": "dqn", "td_target": "double"})
    with pytest.raises(TrainingError, match="env"):
        TrainConfig.from_dict({"recipe": "dqn", "env": "Pong-v5"})
    for key, bad in [("double_dqn", "yes"), ("restore_best", 1), ("best_eval_every", 0),
                     ("best_eval_episodes", 0), ("target_tau", 1.5), ("epsilon_decay_steps", 0)]:
        with pytest.raises(TrainingError, match=f"training.{key}:"):
            TrainConfig.from_dict({"recipe": "dqn", key: bad})
    project = io.load(resolve("dqn_cartpole"))
    project.networks["q_network"].set_params("fc_out", {"out_features": 3})
    training = {**project.training, **SHORT_DQN, "epochs": 1, "device": "cpu"}
    trainer = Trainer(models_for(project, training), data_for(project, training, {}),
                      optimiser_settings(training))
    result = trainer.run()
    assert isinstance(result, RunFailed) and "needs 2" in result.message, result
