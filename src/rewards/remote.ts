// Rewards from a remote server speaking OpenRLHF's protocol (pacer serve rewards, or OpenRLHF's own
// remote RM): POST {query: prompt + completion, prompts, labels} -> {rewards, scores, extra_logs}.
import { postJsonWithRetry, type RetryOptions } from '../clients/http.js';
import { completionText, type RewardFunction } from './types.js';

export type RemoteRewardOptions = RetryOptions;

/** Client for a remote reward server, with retries and backoff. */
export class RemoteRewardClient {
  constructor(
    readonly url: string,
    readonly o: RemoteRewardOptions = {},
  ) {}
  async score(
    query: string[],
    prompts?: string[],
    labels?: unknown[],
  ): Promise<{ rewards: number[]; scores: number[]; extra_logs: Record<string, number> }> {
    const j = await postJsonWithRetry(this.url, { query, prompts, labels }, this.o, 'reward server');
    if (!Array.isArray(j.rewards) || j.rewards.length !== query.length)
      throw new Error(
        `pacer: reward server ${this.url} returned ${j.rewards?.length} rewards for ${query.length} queries`,
      );
    return j;
  }
}

/**
 * The 'remote' reward: the bearer token is read from the environment variable tokenEnv, never from
 * the config; labels come from labelColumn when the dataset has it. Conversational prompts are sent
 * as their messages' contents joined by newlines. A server that stays down fails the batch, which
 * the trainer handles as reward_on_error says.
 */
export function remoteReward(o: {
  url: string;
  tokenEnv: string;
  labelColumn: string;
  timeoutMs: number;
  retries: number;
}): RewardFunction {
  return async (input) => {
    const client = new RemoteRewardClient(o.url, {
      token: process.env[o.tokenEnv],
      timeoutMs: o.timeoutMs,
      retries: o.retries,
    });
    const prompts = input.prompts.map((p) => (typeof p === 'string' ? p : p.map((m) => m.content).join('\n')));
    const j = await client.score(
      input.completions.map((c, i) => prompts[i] + completionText(c)),
      prompts,
      input.columns[o.labelColumn],
    );
    // a non-number from the server is an error, not "no reward": NaN makes runRewards count it in rewards/errors
    return j.rewards.map((r: unknown) => (typeof r === 'number' ? r : Number.NaN));
  };
}
