import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { DbfastError } from '../errors.js';
import { COMMIT_ID } from './providers.js';

/** The repository's URL with any user info (a token, a password) replaced by `***`. */
export function maskRepository(source: string): string {
  return source.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]+@/i, '$1***@');
}

/** Removes a URL's user info from text git printed, in case it echoes it. */
function scrubGitOutput(text: string, source: string): string {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/]+)@/i.exec(source)?.[1];
  let out = text.split(source).join(maskRepository(source));
  if (userinfo) out = out.split(userinfo).join('***');
  return out.trim();
}

/**
 * Every commit handed to git here is a commit id, checked again at this boundary (the webhook's
 * parser already refuses others): a string starting with `-` would be an option to git
 * (`--upload-pack=<command>` runs a command), so nothing else may reach an argv.
 */
function assertCommitId(commit: string): void {
  if (!COMMIT_ID.test(commit)) {
    throw new DbfastError('WEBHOOK_COMMIT_INVALID', `${JSON.stringify(commit.slice(0, 100))} is not a commit id (40 or 64 hex digits); nothing was fetched or checked out`, {
      hint: 'A push delivery names the pushed commit by its full id; deliver it again from the git host.',
    });
  }
}

/** A worktree holding exactly one commit, for one deploy. */
export interface CommitWorktree {
  dir: string;
  commit: string;
  remove: () => Promise<void>;
}

/**
 * The server's own clone of `[webhooks] repository` (bare, under the work folder). Every push
 * is fetched into it and deployed from a worktree of exactly the pushed commit, so the user's
 * working tree is never read. Git commands on the clone run one at a time (ref and worktree
 * bookkeeping take locks of their own that concurrent commands would trip over).
 */
export class ServerRepository {
  readonly gitDir: string;
  readonly worktreesDir: string;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly source: string,
    workDir: string,
  ) {
    this.gitDir = path.join(workDir, 'repo.git');
    this.worktreesDir = path.join(workDir, 'worktrees');
  }

  private async git(args: string[], what: string): Promise<string> {
    const result = await execa('git', ['--git-dir', this.gitDir, ...args], {
      reject: false,
      // Never wait for a password prompt: a server has nobody to answer it.
      env: { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', SSH_ASKPASS: 'true' },
      stdin: 'ignore',
      timeout: 10 * 60_000,
    });
    if (result.exitCode !== 0 || result.failed) {
      const detail = scrubGitOutput(`${result.stderr}`, this.source) || (result.timedOut ? 'timed out' : `exit ${result.exitCode ?? 'by signal'}`);
      throw new DbfastError('WEBHOOK_GIT_FAILED', `${what} failed: ${detail}`, {
        hint: `Check that ${maskRepository(this.source)} can be fetched from this machine without a prompt (credentials in a helper or an SSH key), and that ${this.gitDir} is writable.`,
      });
    }
    return `${result.stdout}`.trim();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Creates the clone when missing, points it at the configured repository, removes worktrees a killed server left. */
  prepare(): Promise<void> {
    return this.exclusive(async () => {
      await mkdir(this.worktreesDir, { recursive: true });
      if (!existsSync(path.join(this.gitDir, 'HEAD'))) {
        await execa('git', ['init', '--bare', '--quiet', '--end-of-options', this.gitDir], { stdin: 'ignore' });
      }
      const remotes = (await this.git(['remote'], 'listing the clone\'s remotes')).split('\n');
      await this.git(remotes.includes('origin') ? ['remote', 'set-url', '--end-of-options', 'origin', this.source] : ['remote', 'add', '--end-of-options', 'origin', this.source], 'configuring the clone');
      for (const entry of await readdir(this.worktreesDir)) await rm(path.join(this.worktreesDir, entry), { recursive: true, force: true });
      await this.git(['worktree', 'prune'], 'pruning worktrees');
    });
  }

  private async hasCommit(commit: string): Promise<boolean> {
    return this.git(['cat-file', '-e', '--end-of-options', `${commit}^{commit}`], 'looking up the commit').then(
      () => true,
      () => false,
    );
  }

  /**
   * Fetches branches and tags, then makes sure the commit is there (asking for it by id when a
   * ref no longer points at it). A commit that cannot be fetched fails with the cause.
   */
  async fetchCommit(commit: string): Promise<void> {
    assertCommitId(commit);
    return this.exclusive(async () => {
      await this.git(['fetch', '--quiet', '--prune', '--no-tags', 'origin', '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], `fetching ${maskRepository(this.source)}`);
      if (await this.hasCommit(commit)) return;
      await this.git(['fetch', '--quiet', '--end-of-options', 'origin', commit], `fetching commit ${commit}`).catch(() => undefined);
      if (await this.hasCommit(commit)) return;
      throw new DbfastError('WEBHOOK_COMMIT_UNAVAILABLE', `commit ${commit} is not in ${maskRepository(this.source)} (fetched every branch and tag, then asked for the commit itself)`, {
        hint: 'Was it force-pushed away, or does the webhook belong to another repository than [webhooks] repository? Push again, or deploy by hand with `dbfast deploy`.',
      });
    });
  }

  /** A detached worktree of `commit` in its own folder; `remove()` deletes it again. */
  async checkout(commit: string, label: string): Promise<CommitWorktree> {
    assertCommitId(commit);
    return this.exclusive(async () => {
      const dir = path.join(this.worktreesDir, `${label.replace(/[^A-Za-z0-9._-]/g, '_')}-${commit.slice(0, 12)}`);
      await this.git(['worktree', 'add', '--quiet', '--detach', '--force', '--end-of-options', dir, commit], `checking out ${commit}`);
      const remove = (): Promise<void> =>
        this.exclusive(async () => {
          await this.git(['worktree', 'remove', '--force', '--end-of-options', dir], 'removing the worktree').catch(() => undefined);
          await rm(dir, { recursive: true, force: true });
          await this.git(['worktree', 'prune'], 'pruning worktrees').catch(() => undefined);
        });
      return { dir, commit, remove };
    });
  }
}
