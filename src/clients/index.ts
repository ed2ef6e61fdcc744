// pacer/clients: clients for OpenAI-compatible model servers and JSON POSTs with retries.
export * from './openai.js';
export * from './http.js';
export * from './studio.js';
