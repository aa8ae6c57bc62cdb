import { spawn } from 'node:child_process';
import { CLI, PROJECT_ROOT } from './cli.js';

/**
 * Runs the real CLI in a real pseudo-terminal, through util-linux `script` (`script -qfec CMD
 * /dev/null`): the CLI's stdin, stdout and stderr are all the terminal, as for a person typing,
 * so colour, progress lines and prompts behave as they do for one. What the terminal showed
 * comes back as one string (stdout and stderr interleaved, `\r\n` line ends, escape codes kept).
 */
export interface TerminalRun {
  exitCode: number | null;
  /** Everything the terminal got, raw. */
  output: string;
}

export interface TerminalOptions {
  cwd?: string;
  /** Added to (undefined: removed from) this process's environment; NO_COLOR, FORCE_COLOR and CI are removed unless given. */
  env?: Record<string, string | undefined>;
  /** Terminal width (the pty has none until told). */
  columns?: number;
  /** Typed once the output matches `when` (e.g. a prompt). */
  answer?: { when: RegExp; text: string };
  /** Ends the run (SIGKILL) after this long, so a hang fails with what was shown (default 45 s). */
  timeoutMs?: number;
}

/** Single-quotes a word for sh (script runs its command through a shell). */
function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function runInTerminal(args: string[], options: TerminalOptions = {}): Promise<TerminalRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  // The parent's colour and CI settings would decide for the child: each test says what it wants.
  for (const key of ['NO_COLOR', 'FORCE_COLOR', 'CI', 'COLORTERM']) delete env[key];
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const command = `stty cols ${options.columns ?? 100} rows 40; exec ${[process.execPath, CLI, ...args].map(shellWord).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: options.cwd ?? PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (options.answer && !answered && options.answer.when.test(output)) {
        answered = true;
        child.stdin.write(`${options.answer.text}\n`);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n[runInTerminal: killed after ${options.timeoutMs ?? 45_000} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 45_000);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output });
    });
    // Without an answer to give, stdin stays open but silent (a closed one would end the session).
    if (!options.answer) child.stdin.on('error', () => undefined);
  });
}

/** SGR colour codes (`ESC [ ... m`) in a string. */
// eslint-disable-next-line no-control-regex -- the escape character is what is looked for
export const SGR = /\x1b\[[0-9;]*m/;

/** The terminal's text with colour codes removed and line ends as `\n` (progress `\r` kept). */
export function plainText(output: string): string {
  // eslint-disable-next-line no-control-regex -- see SGR
  return output.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r\n/g, '\n');
}

/**
 * The lines a terminal would show at the end, from what it was sent: `\r` goes back to the
 * line's start, `ESC [2K` erases the line, other escape codes draw nothing, text overwrites.
 * A progress line that was never erased, or a result written over one, shows up here as it
 * would on screen.
 */
export function screen(output: string): string[] {
  const lines: string[] = [''];
  let column = 0;
  // eslint-disable-next-line no-control-regex -- see SGR
  const tokens = output.match(/\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+/g) ?? [];
  for (const token of tokens) {
    const row = lines.length - 1;
    if (token === '\r') column = 0;
    else if (token === '\n') {
      lines.push('');
      column = 0;
    } else if (token === '\x1b[2K') lines[row] = '';
    else if (token.startsWith('\x1b')) continue;
    else {
      const current = (lines[row] as string).padEnd(column);
      lines[row] = current.slice(0, column) + token + current.slice(column + token.length);
      column += token.length;
    }
  }
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}
