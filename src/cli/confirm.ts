import { createInterface } from 'node:readline/promises';
import { confirmationRequired } from '../index.js';

/**
 * Asks on the terminal for a risky operation; the user must type `expected` (the remote's
 * name), as a y/N would be answered by reflex. False without a terminal: callers then refuse.
 */
export async function confirmOnTerminal(question: string, expected: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\nType "${expected}" to go on: `);
    return answer.trim() === expected;
  } finally {
    rl.close();
  }
}

/**
 * --confirm (or --yes); else, when the library says the remote needs confirmation and a person
 * is at a terminal, their typed answer. False otherwise: the library then refuses with a hint.
 */
export async function confirmedFor(
  ctx: { out: { json: boolean }; config(): Promise<{ remotes: Record<string, Parameters<typeof confirmationRequired>[0]> }> },
  remoteName: string,
  what: string,
  options: Record<string, unknown>,
): Promise<boolean> {
  if (options.confirm === true || options.yes === true) return true;
  const remote = (await ctx.config()).remotes[remoteName];
  if (!remote || !confirmationRequired(remote) || ctx.out.json) return false;
  return confirmOnTerminal(`${what} remote "${remoteName}" (environment ${remote.environment}).`, remoteName);
}
