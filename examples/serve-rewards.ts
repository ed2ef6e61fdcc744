// Rewards for OpenRLHF (or any trainer that posts to /get_reward): a server with built-in and custom
// rewards, asked the way OpenRLHF's remote reward client asks. Guide: docs/serve-rewards-openrlhf.md.
//   node serve-rewards.js        (PACER_SMOKE=1: one request, then exit; otherwise it keeps serving)
import type { AddressInfo } from 'node:net';
import { opt, registerReward, rewardsFromSpec } from 'pacer/rewards';
import { createRewardServer } from 'pacer/server';
import { SMOKE } from './tiny.ts';

registerReward(
  'short',
  { max_chars: opt.int(40, 'longest completion that earns the reward', { min: 1 }) },
  (o) => (input) => input.completions.map((c) => (c.length <= o.max_chars ? 1 : 0)),
);

// accuracy reads the labels OpenRLHF sends; weights as in a trainer config
const server = createRewardServer({
  rewards: rewardsFromSpec('accuracy,short:max_chars=12', [1, 0.5]),
  noToken: true, // loopback only; set `token` (OpenRLHF cannot send one) when the server listens on a network
  workers: 0, // rewards registered in this file exist in this thread (rewardModules: load them in workers)
});
await new Promise<void>((ok) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', ok));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/get_reward`;

// OpenRLHF's body: query = prompt + response, plus prompts and labels
const res = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    query: ['What is 17+25? 42', 'What is 17+25? The answer is 43'],
    prompts: ['What is 17+25? ', 'What is 17+25? '],
    labels: ['42', '42'],
  }),
});
const body = (await res.json()) as { rewards: number[]; extra_logs: Record<string, number> };
console.log(JSON.stringify({ url, rewards: body.rewards, logs: body.extra_logs }));
if (SMOKE) server.close();
else console.log(`serving; OpenRLHF: --remote_rm_url ${url}   (Ctrl-C stops)`);
