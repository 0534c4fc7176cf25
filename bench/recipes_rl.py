"""RL recipes: greedy-policy quality after a longer CPU run, and the DQN recipe's speed.

    dqn_cartpole_greedy_return          mean return of the greedy Q-network over 100 seeded
                                        CartPole-v1 episodes, with the weights the run ends
                                        with (final.pt: the preset's restore_best loads the
                                        best of its greedy checks); CartPole-v1 counts as solved at 475
    dqn_cartpole_best_pt_greedy_return  the same for best.pt (the epoch with the best val_return)
    dqn_cartpole_best_check_return      the recipe's best greedy check (best_eval_episodes episodes)
    dqn_cartpole_best_check_step        the environment step of that check
    dqn_cartpole_train_s                seconds the DQN run took
    actor_critic_greedy_return          the same for the actor_critic preset's policy (best.pt)
    actor_critic_final_greedy_return    ... and its last epoch's policy
    dqn_recipe_s_per_epoch              seconds per epoch (1000 env steps, one update each) of the
                                        dqn recipe through the Trainer (without the greedy checks)
    plain_dqn_s_per_epoch               the same epoch as a hand-written PyTorch DQN loop (Double
                                        DQN targets, soft target update, as the preset)
    dqn_recipe_over_plain               the ratio of the two (1.0 = no overhead), median of interleaved runs

The presets run as they ship except for the epochs (``--dqn-epochs``,
``--ac-epochs``; 0 skips that run), the seed (``--seed``) and the device (CPU);
``--repeats 0`` skips the speed figures.

    python bench/recipes_rl.py [--dqn-epochs 50] [--ac-epochs 50] [--repeats 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from studio.graph import io
from studio.presets import resolve
from studio.train import Trainer
from studio.train.events import EpochEnded
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.rl_env import evaluate_greedy, make_env, one_cpu_thread

EVAL_SEEDS = list(range(50_000, 50_100))


def train(name: str, epochs: int, out: str | None = None, **changes):
    """Run preset ``name`` for ``epochs`` on the CPU; (EpochEnded metrics list, trainer, models)."""
    project = io.load(resolve(name))
    training = {**project.training, "epochs": epochs, "device": "cpu", **changes}
    torch.manual_seed(0)
    seen = []
    models = models_for(project, training)
    trainer = Trainer(models, data_for(project, training, project.data), optimiser_settings(training),
                      lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None, out_dir=out)
    result = trainer.run()
    if result.__class__.__name__ != "RunFinished":
        raise SystemExit(f"{name}: {result}")
    return seen, trainer, models


def greedy(model, weights=None) -> float:
    if weights is not None:
        model = copy.deepcopy(model)
        model.load_state_dict(weights)
    returns = evaluate_greedy(model, "CartPole-v1", EVAL_SEEDS)
    return sum(returns) / len(returns)


def plain_dqn_epoch(steps: int, training: dict) -> float:
    """``steps`` env steps of Double DQN with an update each, as a plain loop (filled buffer); seconds."""
    torch.manual_seed(0)
    project = io.load(resolve("dqn_cartpole"))
    q = models_for(project, training)["model"]
    target = copy.deepcopy(q).requires_grad_(False)
    opt = torch.optim.Adam(q.parameters(), training["lr"])
    env = make_env("CartPole-v1")
    n, bs = 10_000, training["batch_size"]
    obs_b, next_b = torch.randn(n, 4), torch.randn(n, 4)
    act_b, rew_b, done_b = torch.randint(2, (n,)), torch.ones(n), torch.zeros(n)
    obs, _ = env.reset(seed=0)
    with one_cpu_thread(torch.device("cpu")):
        start = time.perf_counter()
        for step in range(steps):
            if torch.rand(()) < 0.05:
                action = int(torch.randint(2, ()))
            else:
                with torch.no_grad():
                    action = int(q(torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)).argmax(1)[0])
            next_obs, reward, term, trunc, _ = env.step(action)
            i = step % n
            obs_b[i], next_b[i] = torch.as_tensor(obs), torch.as_tensor(next_obs)
            act_b[i], rew_b[i], done_b[i] = action, float(reward), float(term)
            obs = env.reset()[0] if term or trunc else next_obs
            idx = torch.randint(n, (bs,))
            qa = q(obs_b[idx]).gather(1, act_b[idx].unsqueeze(1)).squeeze(1)
            with torch.no_grad():
                greedy_next = q(next_b[idx]).argmax(1, keepdim=True)
                next_v = target(next_b[idx]).gather(1, greedy_next).squeeze(1)
                y = rew_b[idx] + training["discount"] * (1 - done_b[idx]) * next_v
            loss = F.smooth_l1_loss(qa, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(q.parameters(), training["grad_clip"])
            opt.step()
            with torch.no_grad():
                for t, p in zip(target.parameters(), q.parameters()):
                    t.lerp_(p, training["target_tau"])
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dqn-epochs", type=int, default=50)
    parser.add_argument("--ac-epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.dqn_epochs:
            bench_dqn(args.dqn_epochs, args.seed, f"{tmp}/dqn")
        if args.ac_epochs:
            bench_actor_critic(args.ac_epochs, args.seed, f"{tmp}/ac")
    if args.repeats:
        bench_speed(args.repeats)


def bench_dqn(epochs: int, seed: int, out: str) -> None:
    """Train the dqn_cartpole preset; print the greedy returns of its final and best.pt weights."""
    t0 = time.perf_counter()
    seen, trainer, models = train("dqn_cartpole", epochs, out=out, seed=seed)
    train_s = time.perf_counter() - t0
    best = torch.load(f"{out}/best.pt", weights_only=True)
    print(f"dqn_cartpole_greedy_return: {greedy(models['model']):.1f}")
    print(f"dqn_cartpole_best_pt_greedy_return: {greedy(models['model'], best):.1f}")
    print(f"dqn_cartpole_best_val_return: {max(m['val_return'] for m in seen):.1f}")
    if trainer.recipe.best.value is not None:
        print(f"dqn_cartpole_best_check_return: {trainer.recipe.best.value:.1f}")
        print(f"dqn_cartpole_best_check_step: {trainer.recipe.best.step}")
    print(f"dqn_cartpole_train_s: {train_s:.1f}")


def bench_actor_critic(epochs: int, seed: int, out: str) -> None:
    """Train the actor_critic preset; print the greedy returns of its best.pt and final policies."""
    t0 = time.perf_counter()
    _, _, models = train("actor_critic", epochs, out=out, seed=seed)
    best = torch.load(f"{out}/best.pt", weights_only=True)
    print(f"actor_critic_greedy_return: {greedy(models['policy'], best['policy']):.1f}")
    print(f"actor_critic_final_greedy_return: {greedy(models['policy']):.1f}")
    print(f"actor_critic_train_s: {time.perf_counter() - t0:.1f}")


def bench_speed(repeats: int) -> None:
    """Epoch 2 of a run whose buffer is full enough from the start (an update every step) against
    the same epoch as a plain loop, interleaved ``repeats`` times."""
    project = io.load(resolve("dqn_cartpole"))
    training = {**project.training, "device": "cpu"}
    recipe_s, plain_s = [], []
    for _ in range(repeats):
        seen, _, _ = train("dqn_cartpole", 2, learning_starts=64, eval_episodes=1, restore_best=False)
        recipe_s.append(seen[-1]["time_s"])
        plain_s.append(plain_dqn_epoch(training["env_steps"], training))
    r, p = statistics.median(recipe_s), statistics.median(plain_s)
    print(f"dqn_recipe_s_per_epoch: {r:.3f}")
    print(f"plain_dqn_s_per_epoch: {p:.3f}")
    print(f"dqn_recipe_over_plain: {statistics.median(a / b for a, b in zip(recipe_s, plain_s)):.2f}")


if __name__ == "__main__":
    main()
