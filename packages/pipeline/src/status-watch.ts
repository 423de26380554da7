import { setTimeout as sleep } from 'node:timers/promises';

export interface WatchStatusOptions {
  /** One refresh: the text `batchline status` would print now. */
  readonly render: () => Promise<string>;
  readonly everySeconds: number;
  readonly write: (text: string) => void;
  /** Clear the screen before each refresh (a terminal); otherwise each refresh follows the last, separated. */
  readonly clear: boolean;
  /** Stops the loop (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** For tests: stop after this many refreshes. */
  readonly times?: number;
}

/**
 * `batchline status --watch`: the status table again every few seconds while a run is going, until Ctrl-C.
 * Each refresh reads the store and the warehouse afresh (and lets go of them in between, so a DuckDB file
 * stays free for the run). A refresh that fails shows its error and the next one tries again.
 */
export async function watchStatus(options: WatchStatusOptions): Promise<number> {
  let shown = 0;
  while (!options.signal?.aborted && (options.times === undefined || shown < options.times)) {
    let text: string;
    try {
      text = await options.render();
    } catch (err) {
      text = `status failed: ${(err as Error).message}\n`;
    }
    const stamp = new Date().toISOString().slice(11, 19);
    const footer = `${stamp} UTC · refreshing every ${options.everySeconds} s · Ctrl-C stops\n`;
    options.write(`${options.clear ? '\x1b[H\x1b[2J' : shown > 0 ? '\n' : ''}${text}${footer}`);
    shown += 1;
    if (options.times !== undefined && shown >= options.times) break;
    await sleep(options.everySeconds * 1000, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
  }
  return shown;
}
