import { SingleBar } from 'cli-progress';

/**
 * Progress on stderr, so stdout keeps only the results a script may read. In a terminal it is a
 * bar redrawn in place; elsewhere (CI logs, a pipe, the tests) a bar's control characters would
 * be noise, so a plain line is printed at each step that matters instead.
 */
export interface Meter {
  update(value: number, note?: string): void;
  stop(): void;
}

const active = new Set<Meter>();

/** Ctrl-C and errors stop the bars first, so the cursor comes back and the message is on its own line. */
export function stopMeters(): void {
  for (const meter of [...active]) meter.stop();
}

const interactive = (): boolean => process.stderr.isTTY === true;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function track(meter: Meter): Meter {
  active.add(meter);
  return {
    update: (value, note) => meter.update(value, note),
    stop: () => {
      if (!active.delete(meter)) return;
      meter.stop();
    },
  };
}

/** The upload, in bytes; without a terminal, a line at each quarter. */
export function byteMeter(label: string, total: number): Meter {
  if (interactive()) {
    const bar = new SingleBar({ format: `${label} |{bar}| {percentage}% {sent} of {size}`, stream: process.stderr, hideCursor: true, barsize: 30 });
    bar.start(total, 0, { sent: formatBytes(0), size: formatBytes(total) });
    return track({
      update: (value) => bar.update(Math.min(value, total), { sent: formatBytes(Math.min(value, total)) }),
      stop: () => bar.stop(),
    });
  }
  // 0% is not printed: the line before the upload says it starts.
  let lastQuarter = 0;
  return track({
    update: (value) => {
      const quarter = total > 0 ? Math.floor((Math.min(value, total) / total) * 4) : 4;
      if (quarter <= lastQuarter) return;
      lastQuarter = quarter;
      process.stderr.write(`${label}: ${quarter * 25}% (${formatBytes(Math.min(value, total))} of ${formatBytes(total)})\n`);
    },
    stop: () => undefined,
  });
}

/** The processing, in pictures ended (delivered or failed), with the gateway's ETA as the note. */
export function pictureMeter(label: string, total: number): Meter {
  if (interactive()) {
    const bar = new SingleBar({ format: `${label} |{bar}| {value}/{total} pictures {note}`, stream: process.stderr, hideCursor: true, barsize: 30 });
    bar.start(total, 0, { note: '' });
    return track({
      update: (value, note) => bar.update(value, { note: note ?? '' }),
      stop: () => bar.stop(),
    });
  }
  let lastValue = -1;
  return track({
    update: (value, note) => {
      // Only when the count changes: an ETA ticking down every second would flood a log.
      if (value === lastValue) return;
      lastValue = value;
      process.stderr.write(`${label}: ${value}/${total} pictures${note ? ` ${note}` : ''}\n`);
    },
    stop: () => undefined,
  });
}
