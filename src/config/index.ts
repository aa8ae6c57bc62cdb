export * from './load.js';
export * from './resolve.js';
export * from './targets.js';
export type * from './types.js';
export * from './remotes.js';
