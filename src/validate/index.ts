export * from './connectivity.js';
export * from './privileges.js';
export * from './remote-test.js';
export * from './tools.js';
export * from './types.js';
