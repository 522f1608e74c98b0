/**
 * Progress on stderr: a bar when stderr is a terminal; otherwise (CI logs, pipes, files) one
 * newline-terminated line per update, throttled: a line when another tenth of the work is
 * done, or when `quietSeconds` have passed since the last line (so a slow run still shows it is
 * alive), never more than one a second except the last. stdout stays clean for results and --json.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, label?: string): void;
  log(line: string): void;
  stop(): void;
}

/** Where progress goes: the stream, whether it is a terminal, the clock (tests replace them). */
export interface ProgressOutput {
  readonly stream: NodeJS.WritableStream;
  readonly interactive: boolean;
  /** Milliseconds, increasing. */
  readonly now: () => number;
}

const standardError = (): ProgressOutput => ({ stream: process.stderr, interactive: process.stderr.isTTY === true, now: () => performance.now() });

/** Seconds without a line after which a non-terminal progress prints one anyway. */
export const quietSeconds = 15;

export function progressBar(total: number, unit: string, quiet = false, output: ProgressOutput = standardError()): Progress {
  if (quiet) return { update: () => undefined, log: () => undefined, stop: () => undefined };
  if (!output.interactive) {
    let lastTenth = -1;
    let lastLineAt = Number.NEGATIVE_INFINITY;
    return {
      update(done, label) {
        const tenth = Math.floor((10 * done) / Math.max(1, total));
        const now = output.now();
        const finished = done >= total;
        const due = (tenth !== lastTenth && now - lastLineAt >= 1000) || now - lastLineAt >= quietSeconds * 1000 || (finished && tenth !== lastTenth);
        if (!due) return;
        lastTenth = tenth;
        lastLineAt = now;
        output.stream.write(`${Math.round((100 * done) / Math.max(1, total))}% (${done}/${total} ${unit})${label ? ` ${label}` : ''}\n`);
      },
      log: (line) => void output.stream.write(`${line}\n`),
      stop: () => undefined,
    };
  }
  const bars = new cliProgress.MultiBar(
    { stream: output.stream, format: `{bar} {percentage}% | {value}/{total} ${unit} | eta {eta_formatted} | {label}`, hideCursor: true, clearOnComplete: false },
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

/**
 * A one-line status that replaces itself in a terminal (carriage return, line cleared) and is
 * a line of its own elsewhere, so non-terminal logs never run lines together.
 */
export function statusLine(text: string, output: ProgressOutput = standardError()): void {
  if (output.interactive) output.stream.write(`\r\u001b[2K${text}`);
  else output.stream.write(`${text}\n`);
}
