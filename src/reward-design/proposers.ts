// Who writes the reward functions: a Proposer answers chat messages as a chat model does (n answers per
// call). The LLM proposer is any OpenAI-compatible /v1/chat/completions endpoint (OpenAI, vLLM, SGLang,
// Ollama, llama.cpp or `pacer serve model`), asked as ICPL asks gpt-4o: the whole conversation, temperature
// 1.0, several completions per call (topped up when a server returns fewer). The offline proposer
// (offline-proposer.ts) answers the same messages without a model.
import { OpenAICompatClient } from '../clients/openai.js';
import type { ChatMessage } from './prompts.js';

export interface Proposer {
  /** For logs and reports: 'llm <model> at <url>' or 'offline (not an LLM)'. */
  readonly description: string;
  readonly isLLM: boolean;
  /** n answers to the conversation; `seed` makes repeated calls reproducible where the server honours it. */
  complete(messages: ChatMessage[], n: number, seed: number): Promise<string[]>;
}

export interface LLMProposerOptions {
  url: string;
  model?: string;
  apiKey?: string;
  temperature?: number;
  /** Completions asked for per request (servers may cap n; the rest are asked for again). */
  maxN?: number;
  timeoutMs?: number;
  maxTokens?: number;
}

export class LLMProposer implements Proposer {
  readonly isLLM = true;
  readonly description: string;
  private readonly client: OpenAICompatClient;

  constructor(private readonly o: LLMProposerOptions) {
    if (!/^https?:\/\//.test(o.url)) throw new Error(`pacer: --llm-url must be an http(s) URL, got '${o.url}'`);
    this.client = new OpenAICompatClient(o.url, {
      apiKey: o.apiKey,
      model: o.model,
      timeoutMs: o.timeoutMs ?? 600_000,
      retries: 3,
    });
    this.description = `llm ${o.model ?? '(the server’s model)'} at ${o.url}`;
  }

  async complete(messages: ChatMessage[], n: number, seed: number): Promise<string[]> {
    const out: string[] = [];
    for (let call = 0; out.length < n && call < 2 * n + 2; call++) {
      const want = Math.min(n - out.length, this.o.maxN ?? n);
      const r = await this.client.chat(messages, {
        n: want,
        temperature: this.o.temperature ?? 1.0,
        seed: seed + call,
        maxTokens: this.o.maxTokens,
      });
      out.push(...r.contents.slice(0, want));
    }
    if (out.length < n)
      throw new Error(`pacer: ${this.o.url} gave ${out.length} of ${n} completions after repeated requests`);
    return out;
  }
}
