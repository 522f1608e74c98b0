/**
 * Writing a file whole or not at all: the contents go to a temporary file beside the
 * target, renamed into place (a rename within one folder is atomic on POSIX file systems).
 * A failed or killed write never leaves a half-written file at `path`; a failure removes the
 * temporary file. The temporary name carries the process, the thread and a counter, so sweep
 * workers (threads of one process) writing at once never share one.
 *
 * The one atomic file write of pricelab: CLI outputs, reports, figures, run checkpoints.
 * (Folders are staged and renamed by agents/artifact.ts and serving/registry.ts, whose
 * renames sit inside their own checks and transactions.)
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

let writes = 0;

export function writeFileAtomically(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}-${threadId}-${writes++}.tmp`;
  try {
    writeFileSync(temporary, contents);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
