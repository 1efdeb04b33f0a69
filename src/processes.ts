/**
 * Whether a process with this pid runs on this machine (signal 0 only checks). EPERM means it
 * runs under another user; any other error (ESRCH) means there is none.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
