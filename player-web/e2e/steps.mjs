// @ts-check
// The named, timed steps of an e2e script: what ran, how long each took, and which one was
// running when something failed (for the report line and the failure message).

export function stepRecorder() {
  /** @type {{name: string, ms: number}[]} */
  const steps = [];
  const state = { current: 'launch' };
  /** Runs one named step and records how long it took. */
  async function step(/** @type {string} */ name, /** @type {() => Promise<void>} */ body) {
    state.current = name;
    const started = performance.now();
    await body();
    steps.push({ name, ms: Math.round(performance.now() - started) });
  }
  return { steps, step, current: () => state.current };
}
