export * from './detect.js';
export * from './init.js';
export * from './propose.js';
export * from './render.js';
