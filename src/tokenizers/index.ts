// Tokenizers from a HF folder: tokenizer.json through @huggingface/tokenizers (BPE, byte-level,
// WordPiece, Unigram, ...), special tokens from tokenizer_config.json, and chat templates rendered
// with @huggingface/jinja, as transformers' apply_chat_template does. The template is read wherever
// transformers saves it: chat_template.jinja (>= 4.50 saves), tokenizer_config.json's chat_template,
// or a processor's chat_template.json (vision-language models), in that order.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';

/** A typed content part (TRL/transformers: {"type": "text", "text"}, {"type": "image"}, {"type": "video"}). */
export interface ContentPart {
  type: string;
  text?: string;
  [k: string]: unknown;
}

export interface ChatMessage {
  role: string;
  content: string | ContentPart[];
  [k: string]: unknown;
}

function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return null;
}

export class Tokenizer {
  private readonly tok: HFTokenizer;
  private template: Template | null = null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly chatTemplate: string | null;

  constructor(
    readonly tokenizerJson: Record<string, any>,
    readonly tokenizerConfig: Record<string, any> = {},
    readonly source = 'tokenizer.json',
  ) {
    this.tok = new HFTokenizer(tokenizerJson as any, tokenizerConfig as any);
    this.bosToken = tokenString(tokenizerConfig.bos_token);
    this.eosToken = tokenString(tokenizerConfig.eos_token);
    this.padToken = tokenString(tokenizerConfig.pad_token);
    const ct = tokenizerConfig.chat_template;
    this.chatTemplate =
      typeof ct === 'string'
        ? ct
        : Array.isArray(ct)
          ? (ct.find((t: any) => t.name === 'default')?.template ?? null)
          : null;
  }

  /** Load tokenizer.json (+ tokenizer_config.json when present) from a model folder. */
  static fromPretrained(dir: string): Tokenizer {
    const tj = join(dir, 'tokenizer.json');
    if (!existsSync(tj))
      throw new Error(
        `pacer: ${tj} not found: the model folder has no tokenizer (pacer reads the fast-tokenizer file ` +
          `tokenizer.json; save one with tokenizer.save_pretrained() in Python)`,
      );
    const parse = (f: string) => {
      try {
        return JSON.parse(readFileSync(f, 'utf8'));
      } catch (e) {
        throw new Error(`pacer: ${f}: not valid JSON (${(e as Error).message})`);
      }
    };
    const tc = join(dir, 'tokenizer_config.json');
    try {
      const config = existsSync(tc) ? parse(tc) : {};
      const template = chatTemplateFile(dir, parse);
      if (template !== null && (template.file.endsWith('.jinja') || !config.chat_template))
        config.chat_template = template.template;
      return new Tokenizer(parse(tj), config, tj);
    } catch (e) {
      const msg = (e as Error).message;
      throw msg.startsWith('pacer: ') ? e : new Error(`pacer: ${tj}: not a tokenizer pacer can load (${msg})`);
    }
  }

  /** Token ids; with addSpecialTokens the tokenizer's post-processor may add BOS/EOS. */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids.map(Number);
  }
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    return this.tok.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }
  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }
  get vocabSize(): number {
    return this.tok.get_vocab(true).size;
  }
  get bosTokenId(): number | null {
    return this.bosToken ? (this.tokenToId(this.bosToken) ?? null) : null;
  }
  get eosTokenId(): number | null {
    return this.eosToken ? (this.tokenToId(this.eosToken) ?? null) : null;
  }
  get padTokenId(): number | null {
    return this.padToken ? (this.tokenToId(this.padToken) ?? null) : null;
  }

  /** Render a conversation with the tokenizer's chat template (a string, like tokenize=False). */
  applyChatTemplate(
    messages: ChatMessage[],
    opts: { addGenerationPrompt?: boolean; extra?: Record<string, unknown> } = {},
  ): string {
    if (!this.chatTemplate)
      throw new Error(
        `pacer: ${this.source}: the tokenizer has no chat_template (in tokenizer_config.json), so conversational ` +
          `data cannot be rendered`,
      );
    this.template ??= new Template(this.chatTemplate);
    return this.template.render({
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
      pad_token: this.padToken ?? '',
      ...opts.extra,
    });
  }
}

/** A chat template saved beside the tokenizer: chat_template.jinja, else chat_template.json's. */
function chatTemplateFile(dir: string, parse: (f: string) => any): { file: string; template: string } | null {
  const jinja = join(dir, 'chat_template.jinja');
  if (existsSync(jinja)) return { file: jinja, template: readFileSync(jinja, 'utf8') };
  const json = join(dir, 'chat_template.json');
  if (!existsSync(json)) return null;
  const t = parse(json).chat_template;
  if (typeof t !== 'string') throw new Error(`pacer: ${json}: expected {"chat_template": "<jinja text>"}`);
  return { file: json, template: t };
}

/**
 * A tokenizer folder shipped with pacer: 'bytes' is a byte-level BPE (384 tokens with <s>, </s>,
 * <pad> and a chat template) for models made from scratch.
 */
export function bundledTokenizerDir(name: 'bytes' = 'bytes'): string {
  return join(dirname(fileURLToPath(import.meta.url)), '../../data/tokenizers', name);
}
