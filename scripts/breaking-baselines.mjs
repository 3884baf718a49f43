// Which commits `buf breaking` checks the protos against (used by scripts/check.mjs and test/contract). CI cannot
// record the last commit it passed (it never pushes), so the baselines are what git can tell without that record:
// every commit since this branch left main (origin/main's merge base, which main's CI passed), or, on main itself or
// without a remote, the last `depth` commits. Against every one of them, not only the oldest: a field added and
// renumbered within the range is new to the oldest commit, but a break to the commit that first had it.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const depth = 20;

function tryGit(cwd, ...args) {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The commits to check against, newest first, one per distinct proto tree (most commits change no proto), only those
 * with a buf.yaml; `why` says how they were chosen.
 */
export function breakingBaselines(cwd = process.cwd()) {
  const head = tryGit(cwd, "rev-parse", "HEAD");
  if (!head) return { why: "not a git checkout", commits: [] };
  const main = tryGit(cwd, "rev-parse", "--verify", "--quiet", "origin/main");
  const base = main ? tryGit(cwd, "merge-base", "HEAD", main) : undefined;
  let range;
  let why;
  if (base && base !== head) {
    range = [tryGit(cwd, "rev-list", "--first-parent", `${base}..HEAD~1`) ?? "", base].filter(Boolean).join("\n");
    why = `every commit since the merge base with origin/main (${base.slice(0, 8)})`;
  } else {
    // A shallow clone has fewer: rev-list stops where the history does.
    range = tryGit(cwd, "rev-list", "--first-parent", `--max-count=${depth}`, "HEAD~1") ?? "";
    why = `the last ${depth} commits (no origin/main to branch from)`;
  }
  const seen = new Set([tryGit(cwd, "rev-parse", "HEAD:proto")]);
  const commits = [];
  for (const commit of range.split("\n").filter(Boolean)) {
    if (tryGit(cwd, "cat-file", "-e", `${commit}:buf.yaml`) === undefined) continue;
    const tree = tryGit(cwd, "rev-parse", `${commit}:proto`);
    if (!tree || seen.has(tree)) continue;
    seen.add(tree);
    commits.push(commit);
  }
  return { why, commits };
}

/**
 * A commit's protos built to an image. buf cannot build an old commit straight from git because buf/validate comes
 * from a git-ignored folder, so the old tree is exported, given the same dependency folder, and built.
 */
export function buildImageAt(commit, buf, cwd = process.cwd()) {
  const dir = mkdtempSync(join(tmpdir(), "shop-breaking-"));
  execFileSync("sh", ["-c", `git archive ${commit} buf.yaml proto | tar -x -C "${dir}"`], { cwd });
  cpSync(join(cwd, ".buf-deps"), join(dir, ".buf-deps"), { recursive: true });
  const image = join(dir, "image.binpb");
  execFileSync(buf, ["build", "-o", image], { cwd: dir, stdio: "inherit" });
  return { image, dir };
}
