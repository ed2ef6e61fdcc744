// A client for OpenAI-compatible /v1/completions servers (vLLM, SGLang, Ollama, llama.cpp, or
// `pacer serve model`) that requests per-token log-probs — the rollout path RL needs — and retries
// with exponential backoff.
import { postJsonWithRetry } from './http.js';

export interface Completion {
  text: string;
  tokens: string[];
  logprobs: number[];
  finishReason: string;
  tokenIds?: number[];
}

/** Client for OpenAI-compatible /v1/completions servers, asking for per-token log-probs. */
export class OpenAICompatClient {
  constructor(
    readonly baseUrl: string,
    readonly o: { apiKey?: string; model?: string; timeoutMs?: number; retries?: number; backoffMs?: number } = {},
  ) {}
  /** tokenIds asks for vLLM's return_tokens_as_token_ids; servers that honour it give Completion.tokenIds. */
  async complete(
    prompts: string[],
    p: {
      maxTokens?: number;
      temperature?: number;
      topP?: number;
      /** vLLM's extra sampling parameter (top_k), which pacer serve model also reads. */
      topK?: number;
      n?: number;
      stop?: string[];
      seed?: number;
      tokenIds?: boolean;
    } = {},
  ): Promise<Completion[][]> {
    const body = {
      // without a model name the server's own model is used (vLLM, pacer serve model)
      ...(this.o.model ? { model: this.o.model } : {}),
      prompt: prompts,
      max_tokens: p.maxTokens ?? 64,
      temperature: p.temperature ?? 1,
      top_p: p.topP,
      ...(p.topK ? { top_k: p.topK } : {}),
      n: p.n ?? 1,
      stop: p.stop,
      seed: p.seed,
      logprobs: 1,
      ...(p.tokenIds ? { return_tokens_as_token_ids: true } : {}),
    };
    const j = await postJsonWithRetry(
      `${this.baseUrl.replace(/\/$/, '')}/v1/completions`,
      body,
      {
        token: this.o.apiKey,
        timeoutMs: this.o.timeoutMs ?? 120_000,
        retries: this.o.retries,
        backoffMs: this.o.backoffMs,
      },
      'model server',
    );
    const n = p.n ?? 1;
    const out: Completion[][] = prompts.map(() => []);
    for (const c of j.choices ?? []) {
      if (!c.logprobs || !Array.isArray(c.logprobs.token_logprobs))
        throw new Error(`pacer: ${this.baseUrl} returned no token log-probs (the server must support "logprobs")`);
      const ids = (c.logprobs.tokens as string[]).map((t) => /^token_id:(\d+)$/.exec(t)?.[1]);
      out[Math.floor(c.index / n)].push({
        text: c.text,
        tokens: c.logprobs.tokens,
        logprobs: c.logprobs.token_logprobs,
        finishReason: c.finish_reason,
        ...(ids.length && ids.every((x) => x !== undefined) ? { tokenIds: ids.map(Number) } : {}),
      });
    }
    return out;
  }
}
