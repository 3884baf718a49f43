// Types of breaking-baselines.mjs, for the tests that import it.
export function breakingBaselines(cwd?: string): { why: string; commits: string[] };
export function buildImageAt(commit: string, buf: string, cwd?: string): { image: string; dir: string };
