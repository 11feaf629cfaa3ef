// @ts-check
// What the e2e scripts driven by a caller share: their options (--base, --stream, --out)
// and the way they have the caller change the publisher: {"wait": WHAT} on a line of its
// own, then one line "done" on stdin once it is done.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

/** The script's options; exits with its usage when one is missing. */
export function scriptOptions(/** @type {string} */ script) {
  const { values } = parseArgs({
    options: { base: { type: 'string' }, stream: { type: 'string' }, out: { type: 'string' } },
  });
  const base = values.base?.replace(/\/+$/, '');
  const { stream, out } = values;
  if (!base || !stream || !out) {
    console.error(`usage: node ${script} --base URL --stream ID --out DIR`);
    process.exit(2);
  }
  return { base, streamId: stream, outDir: out };
}

/** `ask(what)`: has the caller do something to the publisher and waits until it is done. */
export function callerRequests() {
  const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  return async function ask(/** @type {string} */ what) {
    console.log(JSON.stringify({ wait: what }));
    const reply = await input.next();
    if (reply.done || reply.value.trim() !== 'done') throw new Error(`the caller did not ${what}`);
  };
}
