// OpenAI response shapes for `pacer serve model`: completion and chat choices with log-probs (the
// legacy {tokens, token_logprobs, top_logprobs, text_offset} for completions, {content: [{token,
// logprob, bytes, top_logprobs}]} for chat), usage, and Server-Sent Events streaming as the OpenAI
// API and vLLM send it: `data: {chunk}` events (chat chunks carry `delta`s, the first one the role),
// a usage chunk with no choices when stream_options.include_usage is set (other chunks then carry
// "usage": null), and `data: [DONE]`. Streamed text is held back while it could still turn into a
// stop string or is an incomplete UTF-8 character, so the chunks add up to the non-streamed text.
import type { ServerResponse } from 'node:http';
import type { FinishReason, GenerationResult, StepToken } from '../models/generate.js';
import type { Tokenizer } from '../tokenizers/index.js';
import type { GenerationRequest } from './openai-request.js';

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

/** Log-probs of the prompt tokens (for echo): null for the first, then [lp, top-k]. */
export type PromptLogprobs = Array<{ logprob: number; top: Array<[number, number]> } | null>;

const finishReason = (r: FinishReason) => (r === 'length' ? 'length' : 'stop');

/** The string a token stands for in log-prob listings ("token_id:N" with return_tokens_as_token_ids). */
function tokenString(tok: Tokenizer, id: number, asIds: boolean): string {
  return asIds ? `token_id:${id}` : tok.decode([id]);
}

/** Characters a token adds to the text (special tokens such as BOS and EOS add none). */
const visibleLength = (tok: Tokenizer, id: number) => tok.decode([id], { skipSpecialTokens: true }).length;

/** Legacy top_logprobs entry: the top-k and the chosen token, {token: logprob} (as vLLM). */
function topDict(tok: Tokenizer, asIds: boolean, top: Array<[number, number]>, chosen: number, lp: number) {
  const d: Record<string, number> = {};
  for (const [id, v] of top) d[tokenString(tok, id, asIds)] = v;
  d[tokenString(tok, chosen, asIds)] = lp;
  return d;
}

/** Completion log-probs for tokens (with offsets counted from `offset0`). */
export function completionLogprobs(
  tok: Tokenizer,
  q: GenerationRequest,
  tokens: number[],
  logprobs: Array<number | null>,
  top: Array<Array<[number, number]> | null> | null,
  offset0: number,
) {
  let off = offset0;
  return {
    tokens: tokens.map((t) => tokenString(tok, t, q.tokenIds)),
    token_logprobs: logprobs,
    top_logprobs:
      q.topLogprobs > 0 && top
        ? tokens.map((t, i) =>
            top[i] && logprobs[i] !== null ? topDict(tok, q.tokenIds, top[i]!, t, logprobs[i]!) : null,
          )
        : null,
    text_offset: tokens.map((t) => {
      const x = off;
      off += visibleLength(tok, t);
      return x;
    }),
  };
}

/** Chat log-prob entries for tokens. */
export function chatLogprobs(
  tok: Tokenizer,
  tokens: number[],
  logprobs: number[],
  top: Array<Array<[number, number]>> | null,
) {
  const entry = (id: number, lp: number) => {
    const s = tok.decode([id]);
    return { token: s, logprob: lp, bytes: [...Buffer.from(s)] };
  };
  return {
    content: tokens.map((t, i) => ({
      ...entry(t, logprobs[i]),
      top_logprobs: top ? top[i].map(([id, lp]) => entry(id, lp)) : [],
    })),
  };
}

export function usage(q: GenerationRequest, res: GenerationResult[]) {
  const p = q.prompts.reduce((a, x) => a + x.length, 0),
    c = res.reduce((a, r) => a + r.tokens.length, 0);
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

/** The echoed prompt of sequence i: its text, token ids and log-probs (first token null). */
function echoed(q: GenerationRequest, i: number, plp: PromptLogprobs[] | null) {
  const p = Math.floor(i / q.n);
  return {
    text: q.promptTexts[p],
    tokens: q.prompts[p],
    logprobs: plp ? plp[p].map((x) => (x ? x.logprob : null)) : [],
    top: plp ? plp[p].map((x) => (x ? x.top : null)) : [],
  };
}

/** The full (non-streamed) response body. */
export function responseBody(
  tok: Tokenizer,
  q: GenerationRequest,
  meta: ResponseMeta,
  out: GenerationResult[],
  plp: PromptLogprobs[] | null,
) {
  const choices = out.map((r, i) => {
    if (q.chat)
      return {
        index: i,
        message: { role: 'assistant', content: r.text ?? '' },
        logprobs: q.logprobs ? chatLogprobs(tok, r.tokens, r.logprobs, r.topLogprobs ?? null) : null,
        finish_reason: finishReason(r.finishReason),
      };
    const e = q.echo ? echoed(q, i, plp) : null;
    const prefix = e ? e.text : '';
    return {
      index: i,
      text: prefix + (r.text ?? ''),
      logprobs: q.logprobs
        ? completionLogprobs(
            tok,
            q,
            [...(e?.tokens ?? []), ...r.tokens],
            [...(e?.logprobs ?? []), ...r.logprobs],
            [...(e?.top ?? []), ...(r.topLogprobs ?? r.tokens.map(() => null))],
            0,
          )
        : null,
      finish_reason: finishReason(r.finishReason),
    };
  });
  return {
    id: meta.id,
    object: q.chat ? 'chat.completion' : 'text_completion',
    created: meta.created,
    model: meta.model,
    choices,
    usage: usage(q, out),
  };
}

/** Text of one sequence as it grows, released only where it can no longer change. */
export class TextStream {
  private readonly tokens: number[] = [];
  private emitted = '';
  constructor(
    private readonly tok: Tokenizer,
    private readonly stops: string[],
  ) {}
  /** Add a token; returns the newly safe text. */
  push(id: number): string {
    this.tokens.push(id);
    let text = this.tok.decode(this.tokens, { skipSpecialTokens: true });
    const at = Math.min(...this.stops.map((s) => text.indexOf(s)).filter((i) => i >= 0));
    if (Number.isFinite(at)) text = text.slice(0, at);
    else text = text.slice(0, text.length - this.heldBack(text));
    return this.release(text);
  }
  /** The rest of the final text (as generate() cut it). */
  finish(finalText: string): string {
    return this.release(finalText);
  }
  private release(text: string): string {
    if (!text.startsWith(this.emitted)) return '';
    const d = text.slice(this.emitted.length);
    this.emitted = text;
    return d;
  }
  /** Characters at the end that may still change: an incomplete UTF-8 character or the start of a stop string. */
  private heldBack(text: string): number {
    let n = 0;
    while (n < text.length && text[text.length - 1 - n] === '\uFFFD') n++;
    for (const s of this.stops)
      for (let k = Math.min(s.length - 1, text.length); k > n; k--)
        if (text.endsWith(s.slice(0, k))) {
          n = k;
          break;
        }
    return n;
  }
}

/** Server-Sent Events for one streamed request. */
export class EventStream {
  private readonly texts: TextStream[];
  private readonly offsets: number[];
  constructor(
    private readonly res: ServerResponse,
    private readonly tok: Tokenizer,
    private readonly q: GenerationRequest,
    private readonly meta: ResponseMeta,
  ) {
    const seqs = q.prompts.length * q.n;
    this.texts = Array.from({ length: seqs }, () => new TextStream(tok, q.generate.stopStrings ?? []));
    this.offsets = new Array(seqs).fill(0);
  }

  private send(choices: unknown[], extra: Record<string, unknown> = {}): void {
    const chunk = {
      id: this.meta.id,
      object: this.q.chat ? 'chat.completion.chunk' : 'text_completion',
      created: this.meta.created,
      model: this.meta.model,
      choices,
      ...(this.q.includeUsage ? { usage: null } : {}),
      ...extra,
    };
    this.res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  private choice(i: number, text: string, logprobs: unknown, finish: string | null) {
    return this.q.chat
      ? { index: i, delta: text ? { content: text } : {}, logprobs, finish_reason: finish }
      : { index: i, text, logprobs, finish_reason: finish };
  }

  /** Headers, then the role (chat) or the echoed prompt (completions with echo). */
  start(plp: PromptLogprobs[] | null): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    this.texts.forEach((_, i) => {
      if (this.q.chat)
        this.send([{ index: i, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
      else if (this.q.echo) {
        const e = echoed(this.q, i, plp);
        const lp = this.q.logprobs ? completionLogprobs(this.tok, this.q, e.tokens, e.logprobs, e.top, 0) : null;
        this.offsets[i] = e.text.length;
        this.send([this.choice(i, e.text, lp, null)]);
      }
    });
  }

  /** One chunk per sequence that produced a token in this step. */
  step(tokens: Array<StepToken | null>): void {
    tokens.forEach((t, i) => {
      if (!t) return;
      const text = this.texts[i].push(t.token);
      let lp: unknown = null;
      if (this.q.logprobs && this.q.chat) lp = chatLogprobs(this.tok, [t.token], [t.logprob], t.top ? [t.top] : null);
      else if (this.q.logprobs) {
        lp = completionLogprobs(this.tok, this.q, [t.token], [t.logprob], [t.top ?? null], this.offsets[i]);
        this.offsets[i] += visibleLength(this.tok, t.token);
      }
      if (text || lp) this.send([this.choice(i, text, lp, null)]);
    });
  }

  /** The rest of each text with its finish reason, the usage chunk if asked, and [DONE]. */
  end(out: GenerationResult[]): void {
    out.forEach((r, i) =>
      this.send([this.choice(i, this.texts[i].finish(r.text ?? ''), null, finishReason(r.finishReason))]),
    );
    if (this.q.includeUsage) this.send([], { usage: usage(this.q, out) });
    this.res.end('data: [DONE]\n\n');
  }

  /** An error after the stream started: an error event, then [DONE] (as vLLM). */
  fail(message: string): void {
    this.res.write(
      `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } })}\n\n`,
    );
    this.res.end('data: [DONE]\n\n');
  }
}
