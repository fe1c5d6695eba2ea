import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { CaptureError } from '../errors';

/** Where a writer's bytes go: a file (by path), or anything with write(). */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  close?(): void;
}

/** A sink that keeps everything in memory (tests, small captures sent elsewhere). */
export class MemorySink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];
  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
  }
  /** Everything written so far. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Writes to a file descriptor opened (and truncated) from a path. */
class FileSink implements ByteSink {
  private readonly fd: number;
  constructor(path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CaptureError(
        code === 'EACCES' ? 'E_PERMISSION' : 'E_INVALID_ARGUMENT',
        `cannot create ${path}: ${code ?? String(error)}`,
        { cause: error },
      );
    }
  }
  write(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done);
  }
  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

/**
 * Writes to a file descriptor the caller opened (e.g. 1 for `-w -`), and leaves it open. A pipe
 * set non-blocking (EAGAIN) is waited on; a reader that went away (EPIPE) is E_OUTPUT_CLOSED.
 */
export class FileDescriptorSink implements ByteSink {
  private readonly wait = new Int32Array(new SharedArrayBuffer(4));
  constructor(private readonly fd: number) {}
  write(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) {
      try {
        done += writeSync(this.fd, bytes, done);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') Atomics.wait(this.wait, 0, 0, 1);
        else if (code === 'EPIPE')
          throw new CaptureError('E_OUTPUT_CLOSED', 'the reader of the output went away', { cause: error });
        else throw error;
      }
    }
  }
}

/** Writer buffers are this large: a packet costs no allocation and no system call. */
const BUFFER = 1024 * 1024;

/**
 * The buffer writers fill: blocks are laid out in place with a DataView, and handed to the sink
 * 1 MiB at a time (or on flush), so writing a packet costs no allocation and no system call.
 */
export class BlockOutput {
  readonly sink: ByteSink;
  private buffer = new Uint8Array(BUFFER);
  private view = new DataView(this.buffer.buffer);
  private used = 0;
  private closed = false;

  constructor(out: ByteSink | string) {
    this.sink = typeof out === 'string' ? new FileSink(out) : out;
  }

  /** Reserves `length` bytes and returns their offset; the caller fills them through view()/bytes(). */
  reserve(length: number): number {
    if (this.closed) throw new CaptureError('E_INVALID_ARGUMENT', 'the capture file writer is closed');
    if (this.used + length > this.buffer.length) {
      this.flush();
      if (length > this.buffer.length) {
        this.buffer = new Uint8Array(length);
        this.view = new DataView(this.buffer.buffer);
      }
    }
    const at = this.used;
    this.used += length;
    return at;
  }

  get dataView(): DataView {
    return this.view;
  }

  get bytes(): Uint8Array {
    return this.buffer;
  }

  flush(): void {
    if (this.used === 0) return;
    this.sink.write(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.sink.close?.();
  }
}
