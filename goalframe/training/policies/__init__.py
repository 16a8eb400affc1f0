"""The policy registry: one :class:`PolicySpec` per policy, each in its own module beside it.

Training and evaluation never branch on a policy's name; they ask its spec (as LeRobot
looks a policy up by name, and segment-anything keeps its model builders in one registry).
A spec is read-only; the registry maps names to the modules that define them, imported on
first use so that naming a policy (``--policy`` checks) costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

# name -> module defining SPEC
POLICIES: dict[str, str] = {
    "rocket2": "goalframe.training.policies.rocket2",
    "act2goal": "goalframe.training.policies.act2goal",
}

AgentFactory = Callable[[int], Any]  # episode seed -> an agent with reset(observation) / act(observation)


@dataclass(frozen=True)
class PolicySpec:
    """Everything training and evaluation need to know about one policy."""

    name: str
    task: Callable[..., Any]  # (TrainConfig, splits) -> the task: data splits, batches, loss
    model: Callable[[dict], Any]  # the run's saved model config -> an untrained policy module
    agent: Callable[[Any, dict], AgentFactory]  # (model, stats) -> closed-loop agents of the trained policy
    random_agent: Callable[[dict, bool], AgentFactory]  # (stats, prior) -> random baseline agents
    closed_loop: Callable[
        ..., dict[str, Any]
    ]  # (factory, episodes, seed, size=, on_episode=) -> success summary
    closed_loop_episodes: Callable[[int], int]  # episodes asked for -> episodes one closed loop runs
    offline_metrics: Callable[
        ..., dict[str, Any]
    ]  # (config, model, stats, task, indices, batch_size, batch_done)
    success_plot: Callable[
        [dict, bool, int], tuple[dict, str, str]
    ]  # (metrics, baseline, episodes) -> groups, title, xlabel
    defaults: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields left None take these
    ablations: tuple[str, ...] = ()
    prior_baseline: bool = False  # also evaluate a random policy drawn from the data's action marginals


def policy_spec(name: str) -> PolicySpec:
    """The spec of a registered policy; an unknown name is a one-line ValueError."""
    try:
        module = POLICIES[name]
    except KeyError:
        raise ValueError(f"--policy must be one of {', '.join(POLICIES)}, got {name!r}") from None
    return import_module(module).SPEC
