export * from './client.js';
export * from './lock.js';
export * from './quote.js';
export * from './target.js';
