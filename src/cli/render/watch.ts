import path from 'node:path';
import type { FileChange, RefreshedDatabase, WatchEvent } from '../../index.js';
import { duration, plural, type Style } from './format.js';

/**
 * `dbfast watch`'s lines: one per cycle (what changed, the rebuild time, the refresh time),
 * plus one per output whose sessions were ended and, for a failure, the error's own lines (the
 * SQL error's `file:line:column`, the source line with a caret) under the cycle's line.
 */

/** `14:03:07`, local time: a developer matches it with the moment they saved. */
function clock(at: Date): string {
  return at.toTimeString().slice(0, 8);
}

const VERBS: Record<FileChange['change'], string> = { added: 'added', modified: 'changed', removed: 'removed' };

/** `changed 1_seed/010_items.sql`, `added a.sql, removed b.sql`, `changed 7 files`. */
export function describeChanges(changes: readonly FileChange[], touched: readonly string[]): string {
  if (changes.length === 0) return touched.length === 0 ? 'no file changed' : `touched ${touched.slice(0, 3).join(', ')}${touched.length > 3 ? ', ...' : ''}`;
  if (changes.length > 3) return `changed ${plural(changes.length, 'file')}`;
  return changes.map((change) => `${VERBS[change.change]} ${change.file}`).join(', ');
}

function refreshedList(outputs: readonly RefreshedDatabase[]): string {
  const list = outputs.map((output) => `${output.database} in ${duration(output.ms)}`).join(', ');
  return outputs.some((output) => output.rebuiltTemplate) ? `${list}, the template rebuilt first as files changed again meanwhile` : list;
}

/** `ended 2 sessions on app_dev (they were connected to the old copy): pid 4242 (user ...), ...` */
function sessionLines(outputs: readonly RefreshedDatabase[]): string[] {
  return outputs
    .filter((output) => output.endedSessions.length > 0)
    .map((output) => {
      const sessions = output.endedSessions.map((s) => `pid ${s.pid} (user ${s.user ?? '?'}, application "${s.application ?? ''}")`).join(', ');
      return `  ended ${plural(output.endedSessions.length, 'session')} on ${output.database} to recreate it (reconnect to get the new copy): ${sessions}`;
    });
}

/** The human lines for one event. */
export function renderWatchEvent(style: Style, event: WatchEvent, at = new Date()): string {
  const time = style.dim(clock(at));
  switch (event.type) {
    case 'watching': {
      const where = event.repositories.map((folder) => `${path.relative(process.cwd(), folder) || '.'}/`).join(', ');
      const outputs = event.outputs.length > 0 ? `; keeping ${event.outputs.join(', ')} in step` : '; no --output: only the template is kept in step';
      return `${time} watching ${where} for ${event.environment} (${event.template})${outputs}. Ctrl-C stops.`;
    }
    case 'unchanged': {
      const what = event.recovered ? `${style.good('recovered')}: the files are back to the last good template` : `${event.touched.join(', ')} saved, no change to ${event.touched.length === 1 ? 'its' : 'their'} content in this environment`;
      return `${time} ${what}; nothing rebuilt`;
    }
    case 'failed': {
      const kept = [event.template, ...event.kept].join(', ');
      const what = event.initial ? 'initial build' : describeChanges([], event.touched);
      const head = `${time} ${style.bad('failed')} (${what}): kept ${kept} as ${event.kept.length > 0 ? 'they were' : 'it was'}; fix and save to retry`;
      const body = event.error.message.split('\n').map((line) => `  ${line}`);
      return [head, ...body].join('\n');
    }
    case 'refreshed': {
      const build = event.build;
      const built = build.rebuilt
        ? `rebuilt ${build.template} (${plural(build.files, 'file')}) in ${duration(event.rebuildMs)}`
        : build.reused
          ? `${build.template} built meanwhile by another dbfast process`
          : `${build.template} is fresh (${duration(event.rebuildMs)} to check)`;
      const refreshed = event.outputs.length > 0 ? `refreshed ${refreshedList(event.outputs)}${event.outputs.length > 1 ? ` (${duration(event.refreshMs)} in all)` : ''}` : event.initial ? 'outputs already hold it' : 'no --output to refresh';
      const what = event.initial ? 'start' : describeChanges(event.changes, event.touched);
      const recovered = event.recovered ? `${style.good('recovered')}: ` : '';
      const total = event.sinceChangeMs === null ? '' : `; ${duration(event.sinceChangeMs)} after the save`;
      return [`${time} ${recovered}${what}: ${built}; ${refreshed}${total}`, ...sessionLines(event.outputs)].join('\n');
    }
  }
}

/** The `--json` line for one event: the event as it is, the error as `--json` errors are, the build without its file hashes. */
export function watchEventJson(event: WatchEvent): Record<string, unknown> {
  if (event.type === 'failed') return { ...event, error: event.error.toJSON() };
  if (event.type === 'refreshed') {
    const { manifest: _manifest, ...build } = event.build;
    return { ...event, build };
  }
  return { ...event };
}
