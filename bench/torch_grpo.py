"""What both PyTorch GRPO peers (pytorch_grpo.py, pytorch_grpo_video.py) share: the GRPO update they time
(group-normalised advantages, DAPO's clipped surrogate over the completion tokens (eps_low / eps_high), the
k3 KL estimate against a reference when beta > 0, gradient clipping at 1 and one optimizer step) and the
timed loop of steps + 1 steps around it (step 0 warms up)."""
import time

import torch


def grpo_update(opt, params, rewards, G, lp, m, rlp, a):
    r = torch.tensor(rewards).view(-1, G)
    adv = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).view(-1)
    ratio = (lp - lp.detach()).exp()
    per = -torch.min(ratio * adv[:, None], ratio.clamp(1 - a["eps_low"], 1 + a["eps_high"]) * adv[:, None])
    if rlp is not None:
        per = per + a["beta"] * ((rlp - lp).exp() - (rlp - lp) - 1)
    loss = (per * m).sum() / m.sum().clamp(min=1)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()


def timed_steps(a, G, P, inputs, rollout, reward, token_logps, policy, ref, opt):
    """steps + 1 GRPO steps over the prompts in turn; `inputs(sel)` is what rollout and token_logps take for
    the selected prompts. Returns the seconds of generation, scoring and training per timed step and the
    mean completion length of each."""
    times = {"generation": [], "scoring": [], "training": []}
    lengths = []
    for step in range(a["steps"] + 1):
        sel = [(step * P + j) % len(a["prompts"]) for j in range(P)]
        x = inputs(sel)
        answers = [a["answers"][i] for i in sel for _ in range(G)]
        t0 = time.perf_counter()
        comps = rollout(x)
        t1 = time.perf_counter()
        rewards = [reward(c, ans) for c, ans in zip(comps, answers)]
        t2 = time.perf_counter()
        lp, m = token_logps(policy, x, comps)
        rlp = None
        if ref is not None:
            with torch.no_grad():
                rlp, _ = token_logps(ref, x, comps)
        grpo_update(opt, policy.parameters(), rewards, G, lp, m, rlp, a)
        t3 = time.perf_counter()
        if step > 0:  # step 0 warms up
            times["generation"].append(t1 - t0)
            times["scoring"].append(t2 - t1)
            times["training"].append(t3 - t2)
            lengths.append(sum(map(len, comps)) / len(comps))
    return times, lengths
