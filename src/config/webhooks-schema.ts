import { z } from 'zod';

/** The git hosts `dbfast webhook serve` understands. */
export const WEBHOOK_PROVIDERS = ['github', 'gitlab', 'gitea', 'bitbucket'] as const;
export type WebhookProviderName = (typeof WEBHOOK_PROVIDERS)[number];

const secretOnly = z.strictObject({ secret_env: z.string().min(1) });

/** One `[[webhooks.routes]]` entry: which pushes deploy to which remote. */
export const webhookRouteSchema = z.strictObject({
  name: z.string().min(1).optional(),
  branch: z.string().min(1).optional(),
  tag: z.string().min(1).optional(),
  remote: z.string().min(1),
  environment: z.string().min(1).optional(),
  provider: z.enum(WEBHOOK_PROVIDERS).optional(),
  secret_env: z.string().min(1).optional(),
  confirm: z.boolean().optional(),
});

/**
 * `[webhooks]`: checked for shape here like every other section; what needs the environment
 * (secrets) or the remotes (production routes) is checked by `dbfast webhook serve` itself.
 */
export const webhooksSchema = z.strictObject({
  listen: z.string().min(1).optional(),
  repository: z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  secret_env: z.string().min(1).optional(),
  max_parallel: z.number().int().min(1).max(64).optional(),
  max_body_bytes: z.number().int().min(1024).optional(),
  request_timeout_seconds: z.number().positive().optional(),
  shutdown_timeout_seconds: z.number().positive().optional(),
  work_dir: z.string().min(1).optional(),
  providers: z
    .strictObject({ github: secretOnly.optional(), gitlab: secretOnly.optional(), gitea: secretOnly.optional(), bitbucket: secretOnly.optional() })
    .optional(),
  routes: z.array(webhookRouteSchema).optional(),
});

export type WebhooksFileConfig = z.infer<typeof webhooksSchema>;
export type WebhookRouteFileConfig = z.infer<typeof webhookRouteSchema>;
