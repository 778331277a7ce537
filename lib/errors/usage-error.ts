/** A command line the CLI cannot run: it says so, with the usage, and exits 2. */
export class UsageError extends Error {}
