/** Wait until `condition` holds (polling); fails with `what` if it never does. Not a timing assertion: only a guard against hanging. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMillis = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
