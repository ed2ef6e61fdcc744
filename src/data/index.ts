/**
 * pacer/data: TRL dataset formats (JSONL, Parquet) with file:line errors, tokenization and collation.
 *
 * @module pacer/data
 */
export * from './datasets.js';
export * from './jsonl.js';
export * from './tokenize.js';
export * from './random.js';
export * from './schemes.js';
export * from './model-filter.js';
