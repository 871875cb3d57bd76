/** Process exit codes, as DESIGN.md §6 fixes them. Scripts and CI gates depend on these numbers. */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  auth: 3,
  unavailable: 4,
  partial: 5,
  piiFound: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
