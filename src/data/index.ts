// pacer/data: TRL dataset formats (JSONL, Parquet) with file:line errors, tokenization and collation.
export * from './datasets.js';
export * from './jsonl.js';
export * from './tokenize.js';
export * from './random.js';
export * from './schemes.js';
