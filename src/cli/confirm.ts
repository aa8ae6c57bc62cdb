import { createInterface } from 'node:readline/promises';

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
