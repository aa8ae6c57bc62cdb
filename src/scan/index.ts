export * from './hash.js';
export * from './natural.js';
export * from './scan.js';
