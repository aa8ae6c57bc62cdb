export { seed, type SeedOptions, type SeedResult } from './seed.js';
export { list, type DbfastDatabase, type DatabaseKind, type ListOptions, type ListResult } from './list.js';
export { drop, type DropOptions, type DropResult } from './drop.js';
export { FILE_COPY_ABOVE_BYTES, chooseStrategy, type CloneStrategy } from './strategy.js';
