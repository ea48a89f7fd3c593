/**
 * Tests that need something outside the repository (skopeo, Node 24, the az CLI). Locally a missing prerequisite skips the test and
 * says why; under CI (CI=true, which CI runners and .ci/run set) it fails the run: a green CI must mean the test ran.
 */

export const underCi = (): boolean => /^(true|1)$/i.test(process.env['CI'] ?? '');

/** `it` when `present`; otherwise a failing test under CI, or a skipped one whose name says what is missing and how to get it. */
export function itWith(present: boolean, what: string, install: string): jest.It {
  if (present) return it;
  if (underCi()) {
    const failing = (name: string): void =>
      it(name, () => {
        throw new Error(`${what} is missing, and CI=true: a CI run must not skip this test; ${install}`);
      });
    return failing as unknown as jest.It;
  }
  const skipped = (name: string): void => it.skip(`${name} [skipped: ${what} is missing; ${install}]`, () => undefined);
  return skipped as unknown as jest.It;
}
