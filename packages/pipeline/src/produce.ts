// `batchline produce` hands its arguments to kinesis-producer's own CLI.
export async function runProducerCli(argv: string[]): Promise<number> {
  void argv;
  throw new Error('produce: waiting for @batchline/kinesis-producer to export its CLI entry');
}
