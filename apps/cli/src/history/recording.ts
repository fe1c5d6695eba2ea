import { defaultDatabasePath, HistoryRecording, HistoryStore } from '@netwho/history';
import type { EndedConnection, TrafficMonitor, TrafficSnapshot } from '@netwho/monitor';

export interface Recording {
  recording: HistoryRecording | undefined;
  /** Said once when history was asked for but cannot be kept (and why). */
  notice: string | undefined;
  /** Hand to the capture monitor: each ended connection goes to history. */
  onConnectionEnd: ((c: EndedConnection & { remoteName?: string }) => void) | undefined;
  /** The monitor with every snapshot the app takes also observed for history. */
  wrap(monitor: TrafficMonitor): TrafficMonitor;
  /**
   * Observes the monitor once more (the last second's bytes), notes its connections still open
   * (flagged `open`: counts so far), writes the last interval and closes the file.
   */
  close(monitor?: TrafficMonitor): void;
}

/**
 * History for watch, web and agent: on unless --no-history, in --db FILE or the XDG default. A
 * file that cannot be opened turns history off with a notice; the live view goes on.
 */
export function openRecording(options: {
  db?: string;
  history?: boolean;
  /** A write that failed (default: one line on stderr). */
  onError?: (error: unknown) => void;
}): Recording {
  let recording: HistoryRecording | undefined;
  let notice: string | undefined;
  if (options.history !== false) {
    const path = options.db ?? defaultDatabasePath();
    try {
      recording = new HistoryRecording(HistoryStore.open({ path }), {
        onError:
          options.onError ??
          ((error) =>
            process.stderr.write(`netwho: history: ${error instanceof Error ? error.message : error}\n`)),
      }).start();
    } catch (error) {
      notice = `history is off: ${error instanceof Error ? error.message : error} (--db FILE to use another file)`;
    }
  }
  return {
    recording,
    notice,
    onConnectionEnd: recording && ((c) => recording.connectionEnded(c)),
    wrap(monitor) {
      if (!recording) return monitor;
      return {
        mode: monitor.mode,
        snapshot(): TrafficSnapshot {
          const snapshot = monitor.snapshot();
          recording.observe(snapshot);
          return snapshot;
        },
        close: () => monitor.close(),
      };
    },
    close(monitor) {
      if (!recording) return;
      try {
        if (monitor) {
          const last = monitor.snapshot();
          recording.observe(last);
          for (const c of last.connections) recording.connectionEnded(c, true);
        }
      } catch {
        // A monitor that cannot answer any more: what was observed is written all the same.
      }
      recording.close();
      recording.store.close();
    },
  };
}
