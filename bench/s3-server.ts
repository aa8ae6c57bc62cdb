/**
 * The tests' S3 server (s3rver with ListMultipartUploads / AbortMultipartUpload) as a process
 * of its own, for the backup bench: it times dbfast with spawnSync, which would block a server
 * running in the bench's own event loop. Prints one JSON line (endpoint, bucket, env), then
 * serves until SIGTERM.
 */
import { removeS3Server, startS3Server } from '../tests/support/s3.js';

const s3 = await startS3Server('dbfast-bench');
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint, bucket: s3.bucket, env: s3.env })}\n`);
process.once('SIGTERM', () => {
  void removeS3Server(s3).then(() => process.exit(0));
});
