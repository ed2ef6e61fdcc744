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

/** A message's text: a string, or the text parts of a typed content list (images and videos left out). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p) => p && typeof p === 'object' && (p as { type?: unknown }).type === 'text')
    .map((p) => String((p as { text?: unknown }).text ?? ''))
    .join('');
}

/**
 * The 'remote' reward: the bearer token is read from the environment variable tokenEnv, never from
 * the config; labels come from labelColumn when the dataset has it. Conversational prompts are sent
 * as their messages' texts joined by newlines (a typed content list gives its text parts). A server
 * that stays down fails the batch, which the trainer handles as reward_on_error says.
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
    const prompts = input.prompts.map((p) => (typeof p === 'string' ? p : p.map((m) => textOf(m.content)).join('\n')));
    const j = await client.score(
      input.completions.map((c, i) => prompts[i] + completionText(c)),
      prompts,
      input.columns[o.labelColumn],
    );
    // a non-number from the server is an error, not "no reward": NaN makes runRewards count it in rewards/errors
    return j.rewards.map((r: unknown) => (typeof r === 'number' ? r : Number.NaN));
  };
}
