import path from 'node:path';
import picomatch from 'picomatch';
import type { DbfastConfig } from '../config/types.js';
import { WEBHOOK_PROVIDERS, type WebhookProviderName, type WebhookRouteFileConfig } from '../config/webhooks-schema.js';
import { DbfastError } from '../errors.js';

/** The port `dbfast webhook serve` listens on unless `[webhooks] listen` or `--listen` says otherwise. */
export const DEFAULT_WEBHOOK_PORT = 8730;
export const DEFAULT_WEBHOOK_HOST = '127.0.0.1';

/** One `[[webhooks.routes]]` entry, resolved: which pushes deploy to which remote. */
export interface WebhookRoute {
  /** `name`, else `branch:main->staging`: how logs, records and errors refer to it. */
  name: string;
  /** Where it is in the file, for messages: `webhooks.routes[0]`. */
  key: string;
  kind: 'branch' | 'tag';
  pattern: string;
  remote: string;
  environment: string | undefined;
  provider: WebhookProviderName | undefined;
  /** The route's own secret variable, when it has one. */
  secretEnv: string | undefined;
  /** Stands in for `--confirm` on the deploys this route starts. */
  confirm: boolean;
  /** The branch or tag name (without refs/heads/ or refs/tags/) matches the pattern. */
  matches: (name: string) => boolean;
}

/** `[webhooks]` with defaults applied, paths resolved and secrets read from the environment. */
export interface WebhookSettings {
  host: string;
  port: number;
  /** URL of the repository, or an absolute path to one. */
  repository: string;
  /** Path of dbfast.toml inside the repository (default `dbfast.toml`). */
  configInRepository: string;
  /** The server's own clone and the deploys' worktrees live here. */
  workDir: string;
  maxParallel: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  routes: WebhookRoute[];
  defaultSecretEnv: string | undefined;
  providerSecretEnv: Partial<Record<WebhookProviderName, string>>;
  /** Variable name → its value. Never logged or returned by any endpoint. */
  secrets: Map<string, string>;
}

export interface WebhookSettingsOverrides {
  /** `--listen HOST:PORT`. */
  listen?: string | undefined;
}

/** `HOST:PORT`, `:PORT`, `PORT` or `[v6]:PORT`; undefined when it is none of them. */
export function parseListen(value: string): { host: string; port: number } | undefined {
  const text = value.trim();
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]*):)?(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? (match[2] || DEFAULT_WEBHOOK_HOST), port };
}

function isUrlLike(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[^/\s]+@[^/\s]+:/.test(value);
}

function routeName(route: WebhookRouteFileConfig): string {
  return route.name ?? `${route.branch !== undefined ? `branch:${route.branch}` : `tag:${route.tag ?? ''}`}->${route.remote}`;
}

/** The secret variable that signs deliveries of `provider` for `route` (or for no route: pings). */
export function secretEnvFor(settings: WebhookSettings, provider: WebhookProviderName, route?: WebhookRoute): string | undefined {
  return route?.secretEnv ?? settings.providerSecretEnv[provider] ?? settings.defaultSecretEnv;
}

/** Every secret a delivery of `provider` may be signed with: the provider's (or default) one and its routes' own. */
export function candidateSecretEnvs(settings: WebhookSettings, provider: WebhookProviderName): string[] {
  const names = new Set<string>();
  const base = secretEnvFor(settings, provider);
  if (base) names.add(base);
  for (const route of settings.routes) {
    if (route.secretEnv && (route.provider === undefined || route.provider === provider)) names.add(route.secretEnv);
  }
  return [...names];
}

/**
 * The routes a verified push reaches: the ref matches, the provider fits, and the delivery was
 * signed with the secret that route takes (so a route's own secret cannot be used for another).
 */
export function routesFor(settings: WebhookSettings, provider: WebhookProviderName, kind: 'branch' | 'tag', name: string, signedWith: ReadonlySet<string>): WebhookRoute[] {
  return settings.routes.filter((route) => {
    if (route.kind !== kind || !route.matches(name)) return false;
    if (route.provider !== undefined && route.provider !== provider) return false;
    const secret = secretEnvFor(settings, provider, route);
    return secret !== undefined && signedWith.has(secret);
  });
}

function resolveRoute(config: DbfastConfig, route: WebhookRouteFileConfig, index: number, problems: string[]): WebhookRoute | undefined {
  const key = `webhooks.routes[${index}]`;
  const name = routeName(route);
  const where = `${key} (${name})`;
  if ((route.branch === undefined) === (route.tag === undefined)) {
    problems.push(`${where}: give exactly one of branch = "GLOB" or tag = "GLOB"`);
    return undefined;
  }
  const remote = config.remotes[route.remote];
  if (!remote) {
    problems.push(`${where}: no remote named "${route.remote}" (defined: ${Object.keys(config.remotes).join(', ') || 'none'})`);
  } else if (remote.requireConfirmation && route.confirm !== true) {
    const why = remote.environment === 'production' || remote.name === 'production' ? 'is a production remote' : 'has require_confirmation = true';
    problems.push(`${where}: remote "${remote.name}" ${why}; pushes deploy there only when the route says so: add confirm = true to it`);
  }
  const pattern = (route.branch ?? route.tag) as string;
  return {
    name,
    key,
    kind: route.branch !== undefined ? 'branch' : 'tag',
    pattern,
    remote: route.remote,
    environment: route.environment,
    provider: route.provider,
    secretEnv: route.secret_env,
    confirm: route.confirm === true,
    matches: picomatch(pattern, { dot: true }),
  };
}

/**
 * Resolves `[webhooks]`; every problem is reported at once (exit 2), each with its key: a
 * missing repository or route, an unknown remote, a production remote without `confirm = true`
 * (the server refuses to start, naming the route), a secret variable that is not set.
 */
export function resolveWebhookSettings(config: DbfastConfig, env: NodeJS.ProcessEnv, overrides: WebhookSettingsOverrides = {}): WebhookSettings {
  const file = config.webhooks;
  if (!file) {
    throw new DbfastError('WEBHOOK_CONFIG_INVALID', `${config.configPath} has no [webhooks] section`, {
      hint: 'Add [webhooks] with repository = "URL or path" and secret_env = "VAR", and one [[webhooks.routes]] per branch or tag to deploy (see the README, "Deploys triggered by git pushes").',
    });
  }
  const problems: string[] = [];
  const listenText = overrides.listen ?? file.listen ?? `${DEFAULT_WEBHOOK_HOST}:${DEFAULT_WEBHOOK_PORT}`;
  const listen = parseListen(listenText);
  if (!listen) problems.push(`${overrides.listen ? '--listen' : 'webhooks.listen'}: "${listenText}" is not HOST:PORT`);
  if (!file.repository) problems.push('webhooks.repository: required: the URL or path of the git repository to fetch pushed commits from');
  const routes = (file.routes ?? []).map((route, index) => resolveRoute(config, route, index, problems)).filter((route): route is WebhookRoute => route !== undefined);
  if ((file.routes ?? []).length === 0) problems.push('webhooks.routes: none: add [[webhooks.routes]] with branch = "main" (or tag = "v*") and remote = "NAME"');

  const providerSecretEnv: Partial<Record<WebhookProviderName, string>> = {};
  for (const provider of WEBHOOK_PROVIDERS) {
    const own = file.providers?.[provider]?.secret_env;
    if (own) providerSecretEnv[provider] = own;
  }
  const settings: WebhookSettings = {
    host: listen?.host ?? DEFAULT_WEBHOOK_HOST,
    port: listen?.port ?? DEFAULT_WEBHOOK_PORT,
    repository: file.repository && !isUrlLike(file.repository) ? path.resolve(config.rootDir, file.repository) : (file.repository ?? ''),
    configInRepository: file.config ?? 'dbfast.toml',
    workDir: path.resolve(config.rootDir, file.work_dir ?? path.join('.dbfast', 'webhook')),
    maxParallel: file.max_parallel ?? 2,
    maxBodyBytes: file.max_body_bytes ?? 5 * 1024 * 1024,
    requestTimeoutMs: (file.request_timeout_seconds ?? 30) * 1000,
    shutdownTimeoutMs: (file.shutdown_timeout_seconds ?? 300) * 1000,
    routes,
    defaultSecretEnv: file.secret_env,
    providerSecretEnv,
    secrets: new Map(),
  };
  if (path.isAbsolute(settings.configInRepository) || settings.configInRepository.split(/[\\/]/).includes('..')) {
    problems.push(`webhooks.config: "${settings.configInRepository}" must be a path inside the repository`);
  }

  // Every named variable must hold a secret; a route no secret can reach would never deploy.
  const named: Array<[string, string]> = [];
  if (file.secret_env) named.push(['webhooks.secret_env', file.secret_env]);
  for (const [provider, name] of Object.entries(providerSecretEnv)) named.push([`webhooks.providers.${provider}.secret_env`, name]);
  for (const route of routes) if (route.secretEnv) named.push([`${route.key}.secret_env`, route.secretEnv]);
  for (const [key, name] of named) {
    const value = env[name];
    if (!value) problems.push(`${key}: environment variable ${name} is ${value === undefined ? 'not set' : 'empty'}`);
    else settings.secrets.set(name, value);
  }
  for (const route of routes) {
    const providers = route.provider ? [route.provider] : [...WEBHOOK_PROVIDERS];
    if (providers.every((provider) => secretEnvFor(settings, provider, route) === undefined)) {
      problems.push(`${route.key} (${route.name}): no secret: set secret_env on the route, under [webhooks.providers.NAME] or in [webhooks]`);
    }
  }
  if (problems.length > 0) {
    throw new DbfastError('WEBHOOK_CONFIG_INVALID', `${config.configPath}: [webhooks] has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, {
      hint: 'Fix the keys named above. Secrets are never written in dbfast.toml: secret_env names the environment variable that holds one.',
      details: { problems },
    });
  }
  return settings;
}
