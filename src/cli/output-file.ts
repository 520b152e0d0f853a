/**
 * Opening the file of an output option (--flows, --alerts). A FIFO is opened once it has a reader
 * (saying so while it waits); an existing capture file is never overwritten: `replay --flows
 * capture.pcap flows.ndjson` (the arguments swapped) would otherwise truncate the capture.
 */
import { captureFormatOf } from '../capture/capture-stream.js';
import { UsageError } from '../errors.js';
import { LineWriter } from '../export/line-writer.js';
import type { CliIo } from './io.js';

export async function openOutputFile(path: string, option: string, io: CliIo): Promise<LineWriter> {
  const format = captureFormatOf(path);
  if (format !== null) {
    throw new UsageError(`${option} ${path}: refusing to overwrite a ${format} file (remove it first if that is meant)`);
  }
  return LineWriter.openWhenRead(path, io.signal, () => io.stderr(`portsniff: waiting for a reader of the FIFO ${path} (${option})`));
}
