"""The GRPO update both PyTorch GRPO peers (pytorch_grpo.py, pytorch_grpo_video.py) time: group-normalised
advantages, DAPO's clipped surrogate over the completion tokens (eps_low / eps_high), the k3 KL estimate
against a reference when beta > 0, gradient clipping at 1 and one optimizer step."""
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
