import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { WEBHOOK_PROVIDERS, type WebhookProviderName } from '../config/webhooks-schema.js';

/** One ref a push changed; `commit` is null when the branch or tag was deleted. */
export interface RefUpdate {
  kind: 'branch' | 'tag';
  /** Without refs/heads/ or refs/tags/. */
  name: string;
  ref: string;
  commit: string | null;
}

/** What a verified delivery asks for, in the same shape whatever the provider. */
export type ParsedEvent =
  | { kind: 'ping' }
  | { kind: 'push'; repository: string | null; sender: string | null; updates: RefUpdate[] }
  | { kind: 'ignored'; reason: string; repository: string | null; sender: string | null };

/** How one git host signs, names and shapes its deliveries. */
export interface WebhookProvider {
  name: WebhookProviderName;
  /** The header that carries the signature (or token), as the provider documents it. */
  signatureHeader: string;
  /** How the secret is used, for `GET /providers`. */
  scheme: string;
  /** The delivery carries this provider's event header. */
  detect: (headers: IncomingHttpHeaders) => boolean;
  event: (headers: IncomingHttpHeaders) => string | null;
  /** The provider's delivery id; the same on a redelivery. */
  deliveryId: (headers: IncomingHttpHeaders) => string | null;
  /** Checks the raw body against one secret, in constant time. False when the header is missing or malformed. */
  verify: (headers: IncomingHttpHeaders, body: Buffer, secret: string) => boolean;
  parse: (event: string | null, payload: unknown) => ParsedEvent;
}

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? null : first;
}

/** HMAC-SHA256 of the body compared with a hex digest (optionally `sha256=`-prefixed) in constant time. */
function hmacMatches(given: string | null, body: Buffer, secret: string, prefix: string): boolean {
  if (given === null || !given.startsWith(prefix)) return false;
  const hex = given.slice(prefix.length).trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** A shared token (GitLab) compared through digests: equal lengths, so no early exit and no length leak. */
function tokenMatches(given: string | null, secret: string): boolean {
  if (given === null) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

const ZERO_COMMIT = /^0+$/;

/** A commit id as git writes it: 40 hex digits (SHA-1) or 64 (SHA-256). Nothing else reaches git. */
export const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * A delivery whose signature is good but whose payload cannot be what a git host sends: a
 * commit that is not a commit id (`--upload-pack=...` would be an option to git), a ref name
 * starting with `-` or holding control characters. Answered 400 `invalid`; nothing runs.
 */
export class InvalidPayload extends Error {}

/** `refs/heads/x` or `refs/tags/x` and the commit it now points at (null: deleted). */
function refUpdate(ref: string | null, commit: string | null): RefUpdate | undefined {
  if (!ref) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(ref)) throw new InvalidPayload(`the ref ${JSON.stringify(ref)} holds control characters`);
  const deleted = commit === null || ZERO_COMMIT.test(commit);
  if (!deleted && !COMMIT_ID.test(commit)) throw new InvalidPayload(`the pushed commit ${JSON.stringify(commit.slice(0, 100))} is not a commit id (40 or 64 hex digits)`);
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  if (name.startsWith('-')) throw new InvalidPayload(`the ref ${JSON.stringify(ref)} names a branch or tag starting with "-", which git never makes`);
  if (ref.startsWith('refs/heads/')) return { kind: 'branch', name: ref.slice('refs/heads/'.length), ref, commit: deleted ? null : commit };
  if (ref.startsWith('refs/tags/')) return { kind: 'tag', name: ref.slice('refs/tags/'.length), ref, commit: deleted ? null : commit };
  return undefined;
}

/** GitHub and Gitea send the same push shape. */
function parseGithubLikePush(payload: Json): ParsedEvent {
  const repository = str(obj(payload.repository).full_name);
  const sender = str(obj(payload.sender).login) ?? str(obj(payload.pusher).login) ?? str(obj(payload.pusher).name);
  const update = refUpdate(str(payload.ref), payload.deleted === true ? null : str(payload.after));
  if (!update) return { kind: 'ignored', reason: `push of ref ${String(payload.ref)} (not a branch or tag)`, repository, sender };
  return { kind: 'push', repository, sender, updates: [update] };
}

const github: WebhookProvider = {
  name: 'github',
  signatureHeader: 'X-Hub-Signature-256',
  scheme: 'HMAC-SHA256 of the body, "sha256=<hex>"',
  detect: (headers) => header(headers, 'x-github-event') !== null,
  event: (headers) => header(headers, 'x-github-event'),
  deliveryId: (headers) => header(headers, 'x-github-delivery'),
  verify: (headers, body, secret) => hmacMatches(header(headers, 'x-hub-signature-256'), body, secret, 'sha256='),
  parse: (event, payload) => {
    if (event === 'ping') return { kind: 'ping' };
    if (event === 'push') return parseGithubLikePush(obj(payload));
    return { kind: 'ignored', reason: `event "${event ?? ''}" is not a push`, repository: str(obj(obj(payload).repository).full_name), sender: str(obj(obj(payload).sender).login) };
  },
};

const gitea: WebhookProvider = {
  name: 'gitea',
  signatureHeader: 'X-Gitea-Signature',
  scheme: 'HMAC-SHA256 of the body, "<hex>"',
  detect: (headers) => header(headers, 'x-gitea-event') !== null,
  event: (headers) => header(headers, 'x-gitea-event'),
  deliveryId: (headers) => header(headers, 'x-gitea-delivery'),
  verify: (headers, body, secret) => hmacMatches(header(headers, 'x-gitea-signature'), body, secret, ''),
  parse: (event, payload) => {
    if (event === 'ping') return { kind: 'ping' };
    if (event === 'push') return parseGithubLikePush(obj(payload));
    return { kind: 'ignored', reason: `event "${event ?? ''}" is not a push`, repository: str(obj(obj(payload).repository).full_name), sender: str(obj(obj(payload).sender).login) };
  },
};

const gitlab: WebhookProvider = {
  name: 'gitlab',
  signatureHeader: 'X-Gitlab-Token',
  scheme: 'the secret itself, as a shared token',
  detect: (headers) => header(headers, 'x-gitlab-event') !== null,
  event: (headers) => header(headers, 'x-gitlab-event'),
  // Idempotency-Key stays the same across GitLab's retries; older versions only send the event UUID.
  deliveryId: (headers) => header(headers, 'idempotency-key') ?? header(headers, 'x-gitlab-event-uuid') ?? header(headers, 'x-gitlab-webhook-uuid'),
  verify: (headers, _body, secret) => tokenMatches(header(headers, 'x-gitlab-token'), secret),
  parse: (event, raw) => {
    const payload = obj(raw);
    const repository = str(obj(payload.project).path_with_namespace);
    const sender = str(payload.user_username) ?? str(payload.user_name);
    if (event !== 'Push Hook' && event !== 'Tag Push Hook') return { kind: 'ignored', reason: `event "${event ?? ''}" is not a push`, repository, sender };
    const update = refUpdate(str(payload.ref), str(payload.checkout_sha) ?? str(payload.after));
    if (!update) return { kind: 'ignored', reason: `push of ref ${String(payload.ref)} (not a branch or tag)`, repository, sender };
    return { kind: 'push', repository, sender, updates: [update] };
  },
};

const bitbucket: WebhookProvider = {
  name: 'bitbucket',
  signatureHeader: 'X-Hub-Signature',
  scheme: 'HMAC-SHA256 of the body, "sha256=<hex>"',
  detect: (headers) => header(headers, 'x-event-key') !== null,
  event: (headers) => header(headers, 'x-event-key'),
  deliveryId: (headers) => header(headers, 'x-request-uuid') ?? header(headers, 'x-request-id'),
  verify: (headers, body, secret) => hmacMatches(header(headers, 'x-hub-signature'), body, secret, 'sha256='),
  parse: (event, raw) => {
    const payload = obj(raw);
    const repository = str(obj(payload.repository).full_name);
    const actor = obj(payload.actor);
    const sender = str(actor.nickname) ?? str(actor.display_name);
    if (event === 'diagnostics:ping') return { kind: 'ping' };
    if (event !== 'repo:push') return { kind: 'ignored', reason: `event "${event ?? ''}" is not a push`, repository, sender };
    // One delivery may carry several refs (git push --all); each is routed on its own.
    const changes = Array.isArray(obj(payload.push).changes) ? (obj(payload.push).changes as unknown[]) : [];
    const updates: RefUpdate[] = [];
    for (const change of changes) {
      const next = obj(obj(change).new);
      const old = obj(obj(change).old);
      const type = str(next.type) ?? str(old.type);
      const name = str(next.name) ?? str(old.name);
      if (!name || !type) continue;
      const prefix = type === 'tag' || type === 'annotated_tag' ? 'refs/tags/' : 'refs/heads/';
      const update = refUpdate(`${prefix}${name}`, obj(change).new ? str(obj(next.target).hash) : null);
      if (update) updates.push(update);
    }
    if (updates.length === 0) return { kind: 'ignored', reason: 'push without branch or tag changes', repository, sender };
    return { kind: 'push', repository, sender, updates };
  },
};

/** In detection order: Gitea also sends GitHub's headers, so it is asked first. */
export const PROVIDERS: readonly WebhookProvider[] = [gitea, gitlab, github, bitbucket];

export function providerNamed(name: string): WebhookProvider | undefined {
  return PROVIDERS.find((provider) => provider.name === name);
}

/** The provider whose headers the delivery carries, or undefined. */
export function detectProvider(headers: IncomingHttpHeaders): WebhookProvider | undefined {
  return PROVIDERS.find((provider) => provider.detect(headers));
}

export { WEBHOOK_PROVIDERS };
