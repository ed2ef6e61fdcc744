// Tokenization and collation for training, following TRL: prompts get the tokenizer's own special
// tokens (or the chat template), completions get EOS appended; max_prompt_length keeps a prompt's
// last tokens, max_length trims completions; a prompt that alone reaches max_length is rejected.
import { tensor, type Tensor } from '../engine/index.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { DataError, type Example, type Text } from './datasets.js';
import { located } from './jsonl.js';
import { expandRowPads, type RowVision } from './media.js';

export interface TokenizeOptions {
  maxLength?: number | null;
  maxPromptLength?: number | null;
  /** SFT on prompt-completion data: loss on completion tokens only (TRL's default). */
  completionOnlyLoss?: boolean;
}

/** A token sequence and which of its tokens count in the loss; packed rows list their segment lengths. */
export interface Seq {
  ids: number[];
  loss: boolean[];
  segments?: number[];
  /** The row's images/videos (their pads are expanded in ids); rows may share one object. */
  vision?: RowVision;
}

export interface PairTokens {
  prompt: number[];
  chosen: number[];
  rejected: number[];
}
export interface CompletionTokens {
  prompt: number[];
  completion: number[];
}

/**
 * Characters kept per token when a text is cut before tokenizing: a text longer than
 * tokens × CHARS_PER_TOKEN characters cannot need more of them to fill `tokens` tokens (a token
 * spans far fewer characters), so documents are cut first rather than tokenized whole.
 */
export const CHARS_PER_TOKEN = 32;

/** The start (or the end) of a string that can still fill `tokens` tokens. */
export function clipText(s: string, tokens: number | null | undefined, keep: 'start' | 'end' = 'start'): string {
  if (!tokens) return s;
  const n = (tokens + 1) * CHARS_PER_TOKEN;
  if (s.length <= n) return s;
  return keep === 'start' ? s.slice(0, n) : s.slice(s.length - n);
}

/**
 * Prompt token ids as TRL renders them: the tokenizer's special tokens, or the chat template for messages.
 * A vision row's pads are expanded to their items' token counts first (its text is never clipped).
 */
export function renderPrompt(
  tok: Tokenizer,
  prompt: Text,
  maxTokens?: number | null,
  vision?: { rv: RowVision; where: string },
): number[] {
  const expand = (s: string) => (vision ? expandRowPads(vision.rv, s, vision.where) : s);
  if (Array.isArray(prompt))
    return prompt.length ? tok.encode(expand(tok.applyChatTemplate(prompt, { addGenerationPrompt: true }))) : [];
  return tok.encode(vision ? expand(prompt) : clipText(prompt, maxTokens, 'end'), { addSpecialTokens: true });
}

/** The vision of an example that has it, for renderPrompt. */
const visionOf = (ex: Example) => (ex.vision ? { rv: ex.vision, where: ex.where } : undefined);

/** A vision row may not lose any of its pad tokens to truncation (the pads must match the patches). */
function checkVisionCut(ex: Example, ids: number[], keepFrom: number, keepTo: number, key: string): void {
  if (!ex.vision) return;
  const pads = new Set(ex.vision.padIds);
  const lost = ids.findIndex((t, i) => (i < keepFrom || i >= keepTo) && pads.has(t));
  if (lost >= 0)
    throw new DataError(
      `pacer: ${ex.where}: the ${key} with its images/videos is ${ids.length} tokens and truncation would cut ` +
        `vision tokens (max_length / max_prompt_length); raise them, or lower video_max_pixels / video_max_frames`,
      located(ex.where, key),
    );
}

function renderCompletion(tok: Tokenizer, prompt: Text, completion: Text, maxTokens?: number | null): number[] {
  let ids: number[];
  if (Array.isArray(completion)) {
    const p =
      Array.isArray(prompt) && prompt.length ? tok.applyChatTemplate(prompt, { addGenerationPrompt: true }) : '';
    const full = tok.applyChatTemplate([...(prompt as Array<{ role: string; content: string }>), ...completion]);
    ids = tok.encode(full.startsWith(p) ? full.slice(p.length) : full);
  } else ids = tok.encode(clipText(completion, maxTokens));
  const eos = tok.eosTokenId;
  if (eos !== null && ids[ids.length - 1] !== eos) ids.push(eos);
  return ids;
}

function truncate(ex: Example, prompt: number[], completions: number[][], o: TokenizeOptions): [number[], number[][]] {
  let p = prompt;
  if (o.maxPromptLength && p.length > o.maxPromptLength) {
    checkVisionCut(ex, p, p.length - o.maxPromptLength, p.length, 'prompt');
    p = p.slice(p.length - o.maxPromptLength);
  }
  if (p.length === 0)
    throw new DataError(
      `pacer: ${ex.where}: the prompt tokenizes to nothing (the first completion token needs a context; use a ` +
        `tokenizer with a BOS token)`,
      located(ex.where, 'prompt'),
    );
  if (o.maxLength) {
    if (p.length >= o.maxLength)
      throw new DataError(
        `pacer: ${ex.where}: the prompt is ${p.length} tokens, not shorter than max_length ${o.maxLength} (raise ` +
          `max_length, set max_prompt_length, or drop the line)`,
        located(ex.where, 'prompt'),
      );
    completions = completions.map((c) => c.slice(0, o.maxLength! - p.length));
  }
  return [p, completions];
}

export function tokenizePreference(ex: Example, tok: Tokenizer, o: TokenizeOptions): PairTokens {
  const [pm, m] = [o.maxPromptLength ?? o.maxLength, o.maxLength];
  const [p, [c, r]] = truncate(
    ex,
    renderPrompt(tok, ex.prompt!, pm, visionOf(ex)),
    [renderCompletion(tok, ex.prompt!, ex.chosen!, m), renderCompletion(tok, ex.prompt!, ex.rejected!, m)],
    o,
  );
  return { prompt: p, chosen: c, rejected: r };
}

export function tokenizeCompletion(ex: Example, tok: Tokenizer, o: TokenizeOptions): CompletionTokens {
  const prompt = renderPrompt(tok, ex.prompt!, o.maxPromptLength ?? o.maxLength, visionOf(ex));
  const [p, [c]] = truncate(ex, prompt, [renderCompletion(tok, ex.prompt!, ex.completion!, o.maxLength)], o);
  return { prompt: p, completion: c };
}

/** SFT sequence: language modeling (loss everywhere) or prompt-completion (completion-only by default). */
export function tokenizeSFT(ex: Example, tok: Tokenizer, o: TokenizeOptions): Seq {
  if (ex.format === 'language_modeling') {
    const key = Array.isArray(ex.text) ? 'messages' : 'text';
    const expand = (s: string) => (ex.vision ? expandRowPads(ex.vision, s, ex.where, key) : s);
    let ids = Array.isArray(ex.text)
      ? tok.encode(expand(tok.applyChatTemplate(ex.text)))
      : tok.encode(ex.vision ? expand(ex.text as string) : clipText(ex.text as string, o.maxLength), {
          addSpecialTokens: true,
        });
    const eos = tok.eosTokenId;
    if (!Array.isArray(ex.text) && eos !== null && ids[ids.length - 1] !== eos) ids = [...ids, eos];
    if (o.maxLength) {
      checkVisionCut(ex, ids, 0, o.maxLength, key);
      ids = ids.slice(0, o.maxLength);
    }
    if (ids.length < 2)
      throw new DataError(`pacer: ${ex.where}: the text has fewer than 2 tokens`, located(ex.where, key));
    const pads = new Set(ex.vision?.padIds ?? []);
    // vision tokens are inputs, never labels (as TRL's vision collators mask them)
    return { ids, loss: ids.map((t) => !pads.has(t)), vision: ex.vision };
  }
  if (ex.format !== 'prompt_completion')
    throw new DataError(
      `pacer: ${ex.where}: SFT needs language-modeling or prompt-completion data, this is ${ex.format}`,
      located(ex.where),
    );
  const t = tokenizeCompletion(ex, tok, o);
  const only = o.completionOnlyLoss ?? true;
  const pads = new Set(ex.vision?.padIds ?? []);
  return {
    ids: [...t.prompt, ...t.completion],
    loss: [...t.prompt.map((x) => !only && !pads.has(x)), ...t.completion.map(() => true)],
    vision: ex.vision,
  };
}

/**
 * Padding-free packing (as TRL's packing=True): concatenate sequences into rows of at most
 * maxLength tokens (in order, a new row when the next one does not fit). Each keeps its own
 * positions and attends only within itself; no label crosses a boundary.
 */
export function packSequences(seqs: Seq[], maxLength: number): Seq[] {
  if (seqs.some((s) => s.vision))
    throw new DataError('pacer: packing does not take rows with images or videos (set packing: false)', {
      field: 'packing',
    });
  const rows: Seq[] = [];
  let cur: Seq | null = null;
  for (const s0 of seqs) {
    const s = s0.ids.length > maxLength ? { ids: s0.ids.slice(0, maxLength), loss: s0.loss.slice(0, maxLength) } : s0;
    if (!cur || cur.ids.length + s.ids.length > maxLength) {
      if (cur) rows.push(cur);
      cur = { ids: [], loss: [], segments: [] };
    }
    cur.ids.push(...s.ids);
    cur.loss.push(false, ...s.loss.slice(1)); // the first token of a segment is never a label
    cur.segments!.push(s.ids.length);
  }
  if (cur) rows.push(cur);
  return rows;
}

export interface CollatedBatch {
  ids: Tensor; // [B, T] int64, right-padded
  attentionMask: Tensor; // [B, T]
  /** For packed rows: positions restarting at each segment, and segment ids. */
  positionIds?: Tensor;
  segmentIds?: Tensor;
  /** labels[b, t] = ids[b, t+1] where that token is in the loss, else -100; [B, T]. */
  labels: Tensor;
  /** number of loss tokens per row */
  counts: number[];
  /** Each row's images/videos (null: a text row), when some row has them: visionInputs() makes the tensors. */
  vision?: Array<RowVision | null>;
}

/** Right-pad sequences into one batch with shifted labels. */
export function collate(seqs: Seq[], pad: number): CollatedBatch {
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.ids.length));
  const ids = new BigInt64Array(B * T).fill(BigInt(pad));
  const mask = new BigInt64Array(B * T);
  const labels = new BigInt64Array(B * T).fill(-100n);
  const counts: number[] = [];
  seqs.forEach((s, b) => {
    let n = 0;
    s.ids.forEach((t, j) => {
      ids[b * T + j] = BigInt(t);
      mask[b * T + j] = 1n;
      if (j > 0 && s.loss[j]) {
        labels[b * T + j - 1] = BigInt(t);
        n++;
      }
    });
    counts.push(n);
  });
  const out: CollatedBatch = {
    ids: tensor(ids, { shape: [B, T] }),
    attentionMask: tensor(mask, { shape: [B, T] }),
    labels: tensor(labels, { shape: [B, T] }),
    counts,
  };
  if (seqs.some((s) => s.vision)) out.vision = seqs.map((s) => s.vision ?? null);
  if (seqs.some((s) => s.segments)) {
    const pos = new BigInt64Array(B * T);
    const seg = new BigInt64Array(B * T).fill(-1n);
    seqs.forEach((s, b) => {
      let j = 0;
      (s.segments ?? [s.ids.length]).forEach((len, k) => {
        for (let i = 0; i < len; i++, j++) {
          pos[b * T + j] = BigInt(i);
          seg[b * T + j] = BigInt(k);
        }
      });
    });
    out.positionIds = tensor(pos, { shape: [B, T] });
    out.segmentIds = tensor(seg, { shape: [B, T] });
  }
  return out;
}

/** Sequences prompt+completion with the loss on the completion, for log-prob sums. */
export function completionSeq(prompt: number[], completion: number[], vision?: RowVision): Seq {
  const s: Seq = { ids: [...prompt, ...completion], loss: [...prompt.map(() => false), ...completion.map(() => true)] };
  if (vision) s.vision = vision;
  return s;
}
