import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/**
 * A real S3 server (s3rver: S3's REST API in Node, objects on disk, SigV4 checked) on a free
 * port of 127.0.0.1, for tests and the bench.
 *
 * s3rver 3.7 (the newest; its maintained fork needs Node 24) lacks two calls of the S3 API that
 * dbfast uses to clean up after a killed upload: ListMultipartUploads and AbortMultipartUpload.
 * They are added below against s3rver's own upload folders (`<bucket>/._S3rver_uploads/<id>/`,
 * `key` inside), the same data its UploadPart and CompleteMultipartUpload use.
 */
export interface S3TestServer {
  endpoint: string;
  port: number;
  bucket: string;
  /** Where s3rver keeps its buckets. */
  directory: string;
  /** Environment a dbfast process needs to reach it (credentials are s3rver's fixed pair). */
  env: Record<string, string>;
  /** Ids of multipart uploads that were started and neither completed nor aborted. */
  danglingUploads(): string[];
  /** Path of an object's bytes on disk (to damage it). */
  objectFile(key: string): string;
  /** Stops answering at once: open connections are cut, as when the server dies. */
  stop(): Promise<void>;
  /** Starts again on the same port with the same data. */
  start(): Promise<void>;
}

const ACCESS_KEY = 'S3RVER';

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

function uploadsDir(directory: string, bucket: string): string {
  return path.join(directory, bucket, '._S3rver_uploads');
}

/** ListMultipartUploads (GET /bucket?uploads) and AbortMultipartUpload (DELETE /bucket/key?uploadId=). */
function multipartExtension(directory: string): Middleware {
  return async (ctx, next) => {
    // Path style: /bucket, /bucket/ or /bucket/key.
    const match = /^\/([^/]+)\/?(.*)$/.exec(ctx.path);
    const bucket = match?.[1];
    if (!match || !bucket) return next();
    const root = uploadsDir(directory, bucket);
    if (ctx.method === 'GET' && !match[2] && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const uploads = listUploads(root).filter((u) => u.key.startsWith(prefix));
      ctx.body = {
        ListMultipartUploadsResult: {
          '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
          Bucket: bucket,
          Prefix: prefix,
          IsTruncated: false,
          Upload: uploads.map((u) => ({ Key: u.key, UploadId: u.id, Initiated: u.initiated.toISOString() })),
        },
      };
      return;
    }
    if (ctx.method === 'DELETE' && match[2] && typeof ctx.query.uploadId === 'string') {
      const dir = path.join(root, path.basename(ctx.query.uploadId));
      if (!statSync(dir, { throwIfNoEntry: false })) {
        ctx.status = 404;
        ctx.body = { Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.' } };
        return;
      }
      rmSync(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    return next();
  };
}

function listUploads(root: string): Array<{ id: string; key: string; initiated: Date }> {
  let ids: string[];
  try {
    ids = readdirSync(root);
  } catch {
    return [];
  }
  return ids.flatMap((id) => {
    try {
      return [{ id, key: readFileSync(path.join(root, id, 'key'), 'utf8'), initiated: statSync(path.join(root, id)).mtime }];
    } catch {
      return [];
    }
  });
}

export async function startS3Server(bucket = 'dbfast-test'): Promise<S3TestServer> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'dbfast-s3rver-'));
  let port = 0;
  let server: S3rver | undefined;
  const start = async (): Promise<void> => {
    const instance = new S3rver({ address: '127.0.0.1', port, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
    const middleware = (instance as unknown as { middleware: Middleware[] }).middleware;
    // Before s3rver's router (the last middleware), after its XML encoder.
    middleware.splice(middleware.length - 1, 0, multipartExtension(directory));
    const address = await instance.run();
    port = address.port;
    server = instance;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    directory,
    env: {
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
      AWS_REGION: 'us-east-1',
      // Never ask a cloud metadata service for credentials.
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    danglingUploads: () => listUploads(uploadsDir(directory, bucket)).map((u) => u.id),
    objectFile: (key) => {
      const parts = key.split('/');
      const last = parts.pop() as string;
      return path.join(directory, bucket, ...parts, `${last}._S3rver_object`);
    },
    stop: async () => {
      const http = (server as unknown as { httpServer?: Server } | undefined)?.httpServer;
      if (!http) return;
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      server = undefined;
    },
    start,
  };
}

/** Stops the server and deletes its data. */
export async function removeS3Server(s3: S3TestServer | undefined): Promise<void> {
  if (!s3) return;
  await s3.stop();
  rmSync(s3.directory, { recursive: true, force: true });
}
