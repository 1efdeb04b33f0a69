export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** Exit codes (DESIGN §1.2). */
export const EXIT_OK = 0;
/** The run finished but some studies failed (they are listed and recorded). */
export const EXIT_SOME_FAILED = 1;
/** Usage, configuration or connection error: one line on stderr, nothing written. */
export const EXIT_USAGE = 2;
