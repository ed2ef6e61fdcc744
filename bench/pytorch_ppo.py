#!/usr/bin/env python3
"""PyTorch-eager peer for bench/ppo.mjs: one PPO update exactly as CleanRL writes it (cleanrl/ppo.py and
ppo_continuous_action.py: the Agent with 64-64 tanh MLPs and orthogonal init, GAE's backward loop,
update_epochs passes over shuffled minibatches, clipped surrogate and value loss, entropy bonus,
clip_grad_norm_(0.5), Adam(eps=1e-5)), on a random rollout of the same shapes as pacer's.

usage: pytorch_ppo.py ARGS.json  (ARGS: obs_dim, discrete (bool), act (n actions or action dim), num_envs,
       num_steps, num_minibatches, update_epochs, ent_coef, reps). Prints one JSON line with the
       time of each update in ms.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torch.distributions.categorical import Categorical
from torch.distributions.normal import Normal

a = json.load(open(sys.argv[1]))
torch.set_num_threads(int(os.environ.get("PACER_INTRA_OP", "1")))
torch.manual_seed(1)
np.random.seed(1)


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_dim, act, discrete):
        super().__init__()
        self.discrete = discrete
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0),
        )
        self.actor = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, act), std=0.01),
        )
        if not discrete:
            self.actor_logstd = nn.Parameter(torch.zeros(1, act))

    def get_value(self, x):
        return self.critic(x)

    def get_action_and_value(self, x, action=None):
        out = self.actor(x)
        if self.discrete:
            probs = Categorical(logits=out)
            if action is None:
                action = probs.sample()
            return action, probs.log_prob(action), probs.entropy(), self.critic(x)
        probs = Normal(out, torch.exp(self.actor_logstd.expand_as(out)))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


T, N, d = a["num_steps"], a["num_envs"], a["obs_dim"]
B = T * N
mbs = B // a["num_minibatches"]
gamma, gae_lambda, clip_coef, vf_coef, ent_coef, max_grad_norm = 0.99, 0.95, 0.2, 0.5, a["ent_coef"], 0.5
agent = Agent(d, a["act"], a["discrete"])
optimizer = torch.optim.Adam(agent.parameters(), lr=2.5e-4, eps=1e-5)

obs = torch.randn(T, N, d)
with torch.no_grad():
    actions, logprobs, _, values = agent.get_action_and_value(obs.reshape(B, d))
actions = actions.reshape((T, N) + tuple(actions.shape[1:]))
logprobs, values = logprobs.reshape(T, N), values.reshape(T, N)
rewards = torch.ones(T, N)
dones = (torch.rand(T, N) < 0.05).float()
next_obs, next_done = torch.randn(N, d), torch.zeros(N)


def update():
    with torch.no_grad():
        next_value = agent.get_value(next_obs).reshape(1, -1)
        advantages = torch.zeros_like(rewards)
        lastgaelam = 0
        for t in reversed(range(T)):
            if t == T - 1:
                nextnonterminal = 1.0 - next_done
                nextvalues = next_value
            else:
                nextnonterminal = 1.0 - dones[t + 1]
                nextvalues = values[t + 1]
            delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
            advantages[t] = lastgaelam = delta + gamma * gae_lambda * nextnonterminal * lastgaelam
        returns = advantages + values
    b_obs = obs.reshape((-1, d))
    b_logprobs = logprobs.reshape(-1)
    b_actions = actions.reshape((B,) + tuple(actions.shape[2:]))
    b_advantages, b_returns, b_values = advantages.reshape(-1), returns.reshape(-1), values.reshape(-1)
    b_inds = np.arange(B)
    clipfracs = []
    for epoch in range(a["update_epochs"]):
        np.random.shuffle(b_inds)
        for start in range(0, B, mbs):
            mb_inds = b_inds[start:start + mbs]
            mb_act = b_actions.long()[mb_inds] if a["discrete"] else b_actions[mb_inds]
            _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb_inds], mb_act)
            logratio = newlogprob - b_logprobs[mb_inds]
            ratio = logratio.exp()
            with torch.no_grad():
                old_approx_kl = (-logratio).mean()
                approx_kl = ((ratio - 1) - logratio).mean()
                clipfracs += [((ratio - 1.0).abs() > clip_coef).float().mean().item()]
            mb_advantages = b_advantages[mb_inds]
            mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
            pg_loss1 = -mb_advantages * ratio
            pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
            pg_loss = torch.max(pg_loss1, pg_loss2).mean()
            newvalue = newvalue.view(-1)
            v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
            v_clipped = b_values[mb_inds] + torch.clamp(newvalue - b_values[mb_inds], -clip_coef, clip_coef)
            v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
            v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
            entropy_loss = entropy.mean()
            loss = pg_loss - ent_coef * entropy_loss + v_loss * vf_coef
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), max_grad_norm)
            optimizer.step()
    # CleanRL logs these scalars every iteration (writer.add_scalar(..., x.item()))
    return [v_loss.item(), pg_loss.item(), entropy_loss.item(), old_approx_kl.item(), approx_kl.item()]


times = []
for r in range(a["reps"]):
    t0 = time.perf_counter()
    update()
    times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"update_ms": times, "torch": torch.__version__, "threads": torch.get_num_threads()}))
