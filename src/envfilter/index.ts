export * from './filter.js';
export * from './validate.js';
