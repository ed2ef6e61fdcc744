/**
 * pacer/server: an OpenAI-compatible model server and an OpenRLHF-protocol reward server.
 *
 * @module pacer/server
 */
export * from './openai.js';
export * from './rewards.js';
export { HttpError } from './http.js';
