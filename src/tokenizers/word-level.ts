// A word-level tokenizer written in Hugging Face's tokenizer.json format, so that transformers'
// PreTrainedTokenizerFast and pacer's Tokenizer both load it: the `tokenizers` WordPiece model over a
// vocabulary of whole words only (no "##" pieces: a word outside the vocabulary becomes [UNK]); a Split
// pre-tokenizer that isolates each word (\w+), each whitespace character and each punctuation
// character; the Fuse decoder, which concatenates tokens, so decode(encode(s)) = s for text whose words
// are in the vocabulary. Special tokens (e.g. Qwen2-VL's <|im_start|>, <|video_pad|>) are added tokens
// with the first ids, then [UNK], then the words in first-seen order.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The pre-tokenizer's pattern (Rust regex syntax; the same split in JavaScript on ASCII text). */
export const WORD_PATTERN = '\\s|\\w+|[^\\w\\s]';
export const UNK = '[UNK]';

/** The words of texts (special-token strings cut out first), in first-seen order, each once. */
export function wordsOf(texts: Iterable<string>, specials: readonly string[]): string[] {
  const re = new RegExp(WORD_PATTERN, 'g');
  const seen = new Set<string>();
  const esc = specials.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const cut = esc.length ? new RegExp(esc.join('|'), 'g') : null;
  for (const t of texts)
    for (const piece of cut ? t.split(cut) : [t]) for (const m of piece.match(re) ?? []) seen.add(m);
  for (const s of specials) seen.delete(s);
  seen.delete(UNK);
  return [...seen];
}

export interface WordTokenizerFiles {
  specials: readonly string[];
  words: readonly string[];
  eos: string;
  pad: string;
  /** A chat template (written to chat_template.json, where transformers' processors keep it). */
  chatTemplate?: string;
}

/** The tokenizer.json object: ids 0.. for the specials, then [UNK], then the words. */
export function wordTokenizerJson(specials: readonly string[], words: readonly string[]): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  for (const w of [...specials, UNK, ...words]) if (!(w in vocab)) vocab[w] = Object.keys(vocab).length;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: WORD_PATTERN }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'WordPiece', unk_token: UNK, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/** Write tokenizer.json, tokenizer_config.json (and chat_template.json) to dir; returns the vocabulary size. */
export function writeWordTokenizer(dir: string, o: WordTokenizerFiles): number {
  mkdirSync(dir, { recursive: true });
  const tj = wordTokenizerJson(o.specials, o.words);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: null,
    eos_token: o.eos,
    pad_token: o.pad,
    unk_token: UNK,
    model_max_length: 4096,
    clean_up_tokenization_spaces: false,
  };
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  if (o.chatTemplate)
    writeFileSync(join(dir, 'chat_template.json'), `${JSON.stringify({ chat_template: o.chatTemplate }, null, 2)}\n`);
  return Object.keys((tj.model as { vocab: object }).vocab).length;
}
