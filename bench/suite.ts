import type { BenchClusters } from './clusters.js';
import type { BenchRow } from './lib.js';

export interface BenchOptions {
  /** Runs per measured row (medians are reported). */
  runs: number;
  /** Extra repository folder for the seed suite. */
  path: string | undefined;
  /** Rows in the deploy suite's template. */
  rows: number;
  /** Runs per side for the deploy suite (each is a full deploy of `rows`). */
  deployRuns: number;
  /** Template sizes (MiB) for the WAL_LOG / FILE_COPY crossover; empty = skip it. */
  sizes: number[];
  /** Durable server settings (the default); false = fsync, synchronous_commit, full_page_writes off. */
  fsync: boolean;
  /** Size of the SQL suite's generated file of single-row INSERTs, in MB. */
  sqlMegabytes: number;
  /** Pool suite scenarios to run (keeps, read, busy, seed, vitest); all when empty. */
  poolCases: string[];
}

export interface SuiteContext {
  options: BenchOptions;
  /** A fresh folder for this suite's files, removed at the end. */
  workDir: string;
  /** Progress on stderr (stdout carries the report). */
  log(line: string): void;
  /** The bench's local and remote clusters, started on first use and stopped at the end. */
  clusters(): Promise<BenchClusters>;
}

export interface SuiteReport {
  suite: string;
  title: string;
  rows: BenchRow[];
  /** Further markdown tables (phase breakdowns, the clone-strategy crossover). */
  sections?: Array<{ title: string; markdown: string }>;
  /** Anything else worth keeping in --json. */
  data?: Record<string, unknown>;
}

export type Suite = (ctx: SuiteContext) => Promise<SuiteReport>;
