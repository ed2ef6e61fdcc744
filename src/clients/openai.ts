// A client for OpenAI-compatible servers (vLLM, SGLang, Ollama, llama.cpp, OpenAI, or `pacer serve model`):
// /v1/completions with per-token log-probs — the rollout path RL needs — and /v1/chat/completions for
// chat models (the reward-writing LLM of ICPL); retries with exponential backoff.
import { postJsonWithRetry } from './http.js';

export interface Completion {
  text: string;
  tokens: string[];
  logprobs: number[];
  finishReason: string;
  tokenIds?: number[];
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatResult {
  /** One message content per choice, in index order. */
  contents: string[];
  finishReasons: string[];
  usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
}

/** Client for OpenAI-compatible servers: completions with per-token log-probs, and chat completions. */
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

  /** POST /v1/chat/completions: n choices for the messages (OpenAI's request fields). */
  async chat(
    messages: ChatMessage[],
    p: { temperature?: number; n?: number; maxTokens?: number; seed?: number; topP?: number } = {},
  ): Promise<ChatResult> {
    const body = {
      ...(this.o.model ? { model: this.o.model } : {}),
      messages,
      temperature: p.temperature ?? 1,
      n: p.n ?? 1,
      ...(p.maxTokens !== undefined ? { max_tokens: p.maxTokens } : {}),
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
      ...(p.topP !== undefined ? { top_p: p.topP } : {}),
    };
    const url = `${this.baseUrl.replace(/\/$/, '')}/v1/chat/completions`;
    const o = {
      token: this.o.apiKey,
      timeoutMs: this.o.timeoutMs ?? 300_000,
      retries: this.o.retries,
      backoffMs: this.o.backoffMs,
    };
    const j = await postJsonWithRetry(url, body, o, 'chat model server');
    if (!Array.isArray(j?.choices))
      throw new Error(`pacer: chat model server ${url} answered without choices: ${JSON.stringify(j).slice(0, 200)}`);
    const choices = [...j.choices].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return {
      contents: choices.map((c) => (typeof c.message?.content === 'string' ? c.message.content : '')),
      finishReasons: choices.map((c) => String(c.finish_reason ?? '')),
      usage: j.usage ?? null,
    };
  }
}
