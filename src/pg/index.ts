export * from './client.js';
export * from './lock.js';
export * from './quote.js';
export * from './target.js';
export * from './pgpass.js';
export * from './ssl.js';
export * from './client-config.js';
