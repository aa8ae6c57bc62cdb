import { existsSync } from 'node:fs';
import path from 'node:path';
import { isDbfastError } from '../errors.js';
import { dumpCompatibilityProblem, serverMajor, toolInfo, type PgTool, type ToolInfo } from '../pg/tools.js';
import { failed, passed, type CheckResult } from './types.js';

export interface ToolsResult {
  checks: CheckResult[];
  tools: { pgDump: ToolInfo | null; pgRestore: ToolInfo | null };
}

/** Where a bare command name resolves on PATH, for the report (execa runs the same one). */
function onPath(command: string): string {
  if (command.includes('/')) return command;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, command))) return path.join(dir, command);
  }
  return command;
}

async function checkTool(tool: PgTool, serverVersionNum: number | undefined, pgBinDir: string | undefined): Promise<{ check: CheckResult; info: ToolInfo | null }> {
  let info: ToolInfo;
  try {
    info = await toolInfo(tool, pgBinDir);
  } catch (error) {
    if (!isDbfastError(error)) throw error;
    return { check: failed(tool, error.message, error.hint), info: null };
  }
  const where = pgBinDir ? `${info.path} ([tools] pg_bin_dir)` : `${onPath(info.path)} (from PATH)`;
  if (serverVersionNum === undefined) return { check: passed(tool, `${tool} ${info.version} at ${where}; server version unknown`), info };
  const problem = dumpCompatibilityProblem(info, serverVersionNum);
  if (problem) {
    const major = serverMajor(serverVersionNum);
    return {
      check: failed(tool, `${problem}; found ${where}`, `Point dbfast at ${tool} ${major} or newer: in dbfast.toml set [tools] pg_bin_dir = "/usr/lib/postgresql/${major}/bin" (the folder holding pg_dump and pg_restore ${major}).`),
      info,
    };
  }
  return { check: passed(tool, `${tool} ${info.version} at ${where} can work with this PostgreSQL ${serverMajor(serverVersionNum)} server`), info };
}

/** pg_dump and pg_restore: found, and new enough for the server (pg_dump refuses newer servers). */
export async function checkTools(serverVersionNum: number | undefined, pgBinDir?: string): Promise<ToolsResult> {
  const [dump, restore] = await Promise.all([checkTool('pg_dump', serverVersionNum, pgBinDir), checkTool('pg_restore', serverVersionNum, pgBinDir)]);
  const located = (info: ToolInfo | null): ToolInfo | null => (info ? { ...info, path: onPath(info.path) } : null);
  return { checks: [dump.check, restore.check], tools: { pgDump: located(dump.info), pgRestore: located(restore.info) } };
}
