export * from './archive.js';
export * from './compression.js';
export * from './dump.js';
export * from './restore.js';
export { HashingStream } from './streams.js';
export * from './tools.js';
export * from './transaction-restore.js';
