import type { S3Client } from '@aws-sdk/client-s3';
import { DbfastError, errorMessage } from '../../errors.js';

/** `[backup] endpoint` / `force_path_style` (the rest comes from the AWS environment and files). */
export interface S3Settings {
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
}

/**
 * The SDK's client, with the SDK's own credential, region, profile and endpoint resolution
 * (AWS_* variables, ~/.aws files, SSO, instance roles); imported on first use only.
 */
export async function createS3Client(settings: S3Settings, env: NodeJS.ProcessEnv): Promise<S3Client> {
  // The SDK warns on stderr that its releases from 2027 on need Node 22; dbfast pins a release
  // that supports Node 20, and the library never prints. AWS's own switch turns it off.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client } = await import('@aws-sdk/client-s3');
  // Self-hosted servers (s3rver, Garage, Ceph, older MinIO) mis-store or refuse the SDK's
  // default aws-chunked CRC32 trailers; dbfast checks sha256 itself. The AWS variables still win.
  const selfHosted = Boolean(settings.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  return new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.forcePathStyle !== undefined ? { forcePathStyle: settings.forcePathStyle } : {}),
    ...(selfHosted && !env.AWS_REQUEST_CHECKSUM_CALCULATION ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
    ...(selfHosted && !env.AWS_RESPONSE_CHECKSUM_VALIDATION ? { responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  });
}

/** An SDK error as a DbfastError saying what failed, where, and what to check. */
export function s3Failure(what: string, error: unknown, bucket: string, endpoint: string | undefined): DbfastError {
  if (error instanceof DbfastError) return error;
  const name = (error as { name?: string }).name ?? '';
  const code = (error as { code?: string }).code ?? '';
  const message = errorMessage(error) || name;
  let hint = 'Check the bucket, the endpoint and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE).';
  if (name === 'NoSuchBucket') hint = `Create the bucket "${bucket}", or fix [backup] dir.`;
  else if (/Region is missing/i.test(message)) hint = 'Set AWS_REGION (self-hosted servers usually accept any, e.g. us-east-1).';
  else if (/credential/i.test(name) || /credential/i.test(message)) hint = 'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials.';
  else if (name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') hint = 'The credentials were refused: check the key pair and its permissions on the bucket.';
  else if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EPIPE|socket hang up/i.test(`${code} ${message}`) || name === 'TimeoutError') {
    hint = `The object store did not answer: check that it runs and that [backup] endpoint (${endpoint ?? 'AWS'}) is right.`;
  }
  return new DbfastError('BACKUP_STORAGE_FAILED', `${what} failed: ${message}`, { hint, cause: error });
}

/** 404 of any kind: no such key, bucket-level NotFound, an upload already gone. */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.name === 'NoSuchUpload' || e.$metadata?.httpStatusCode === 404;
}

/** The server does not implement the call (501). */
export function notImplemented(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotImplemented' || e.$metadata?.httpStatusCode === 501;
}
