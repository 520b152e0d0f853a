/** `--flows PATH|-`: one JSON line per finished flow (docs/output-schema.md), as flows end. */
import type { ClassifiedFlow } from '../pipeline/results.js';
import type { SessionConsumer } from './consumer.js';
import type { LineWriter } from './line-writer.js';

export class FlowLog implements SessionConsumer {
  /** `ownsWriter`: close the writer at the end (a file), not when it is the process's stdout. */
  constructor(
    private readonly writer: LineWriter,
    private readonly ownsWriter: boolean,
  ) {}

  flow(f: ClassifiedFlow): void {
    if (!this.writer.closed) this.writer.writeLine(JSON.stringify(f));
  }

  /** A flow's line as the pipeline made it (PipelineOptions.flowsAsJson): JSON.stringify of its record. */
  line(text: string): void {
    if (!this.writer.closed) this.writer.writeLine(text);
  }

  finish(): void {
    this.writer.flush();
    if (this.ownsWriter) this.writer.close();
  }

  abort(): void {
    this.finish();
  }
}
