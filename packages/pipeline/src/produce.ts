import { runProducerCli as producerCli } from '@batchline/kinesis-producer';

/** `batchline produce ...` is kinesis-producer's own CLI (`batchline-producer`), arguments passed as given. */
export function runProducerCli(argv: string[]): Promise<number> {
  return producerCli(argv);
}
