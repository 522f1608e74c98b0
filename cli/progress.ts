/**
 * Progress on stderr: a bar when stderr is a terminal, plain lines now and then otherwise
 * (logs of CI and pipelines stay readable); stdout stays clean for results and --json.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, label?: string): void;
  log(line: string): void;
  stop(): void;
}

export function progressBar(total: number, unit: string, quiet = false): Progress {
  if (quiet) return { update: () => undefined, log: () => undefined, stop: () => undefined };
  if (!process.stderr.isTTY) {
    let lastShare = -1;
    return {
      update(done, label) {
        const share = Math.floor((10 * done) / Math.max(1, total));
        if (share !== lastShare) {
          lastShare = share;
          process.stderr.write(`${Math.round((100 * done) / Math.max(1, total))}% (${done}/${total} ${unit})${label ? ` ${label}` : ''}\n`);
        }
      },
      log: (line) => process.stderr.write(`${line}\n`),
      stop: () => undefined,
    };
  }
  const bars = new cliProgress.MultiBar(
    { stream: process.stderr, format: `{bar} {percentage}% | {value}/{total} ${unit} | eta {eta_formatted} | {label}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(total, 0, { label: '' });
  return {
    update: (done, label) => bar.update(done, { label: label ?? '' }),
    log: (line) => bars.log(`${line}\n`),
    stop: () => {
      // MultiBar drops log lines not yet drawn when it stops: draw once more first.
      bars.update();
      bars.stop();
    },
  };
}
