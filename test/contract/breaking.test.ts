// `buf breaking` as scripts/check.mjs runs it: a breaking change is caught in a copy of proto/, and one spread over
// several commits is caught because every commit since the baseline is checked, not only the previous one.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { breakingBaselines, buildImageAt } from "../../scripts/breaking-baselines.mjs";

const root = process.cwd();
const buf = join(root, "node_modules", ".bin", "buf");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary copy of the contract (buf.yaml, proto/, the buf/validate dependency). */
function copyContract(): string {
  const dir = mkdtempSync(join(tmpdir(), "shop-breaking-test-"));
  dirs.push(dir);
  for (const part of ["buf.yaml", "proto", ".buf-deps"]) cpSync(join(root, part), join(dir, part), { recursive: true });
  return dir;
}

function build(dir: string, name: string): string {
  const image = join(dir, name);
  execFileSync(buf, ["build", "-o", image], { cwd: dir, stdio: "pipe" });
  return image;
}

/** `buf breaking` of `dir`'s protos against an image: its exit status and what it printed. */
function breaking(dir: string, against: string): { status: number | null; output: string } {
  const current = build(dir, `current-${Date.now()}.binpb`);
  const run = spawnSync(buf, ["breaking", current, "--against", against], { cwd: dir, encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const moneyProto = join("proto", "shop", "common", "v1", "money.proto");

function edit(dir: string, file: string, from: string, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, "utf8");
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
}

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=ci@example.com", "-c", "user.name=ci", ...args], {
    cwd: dir,
    encoding: "utf8",
  }).trim();
}

describe("buf breaking", () => {
  it("passes an unchanged copy and reports a renumbered field", { timeout: 120_000 }, () => {
    const dir = copyContract();
    const original = build(dir, "original.binpb");
    expect(breaking(dir, original).status).toBe(0);

    edit(dir, moneyProto, "int64 amount_minor = 2", "int64 amount_minor = 3");
    const result = breaking(dir, original);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Money/);
  });

  it("catches a field renumbered two commits back, which the previous commit alone does not", {
    timeout: 180_000,
  }, () => {
    const dir = copyContract();
    writeFileSync(join(dir, ".gitignore"), ".buf-deps\n*.binpb\n");
    git(dir, "init", "-q", "-b", "main");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "base");
    edit(dir, moneyProto, "message Money {", "message Money {\n  string note = 7;");
    git(dir, "commit", "-q", "-am", "add a field");
    edit(dir, moneyProto, "string note = 7;", "string note = 8;");
    git(dir, "commit", "-q", "-am", "renumber it");
    // Pushed together with the renumbering, so CI sees only this commit, whose parent has the same protos.
    writeFileSync(join(dir, "NOTES.md"), "unrelated\n");
    git(dir, "add", "NOTES.md");
    git(dir, "commit", "-q", "-m", "an unrelated change");

    const previous = buildImageAt(git(dir, "rev-parse", "HEAD~1"), buf, dir);
    dirs.push(previous.dir);
    expect(breaking(dir, previous.image).status, "against the previous commit only").toBe(0);

    const { why, commits } = breakingBaselines(dir);
    expect(why).toMatch(/last \d+ commits/);
    // HEAD~1 has HEAD's protos and is skipped; the commit that added the field, then the base, newest first.
    expect(commits).toEqual([git(dir, "rev-parse", "HEAD~2"), git(dir, "rev-parse", "HEAD~3")]);
    const statuses = commits.map((commit) => {
      const built = buildImageAt(commit, buf, dir);
      dirs.push(built.dir);
      return breaking(dir, built.image).status;
    });
    // The commit that had the field at 7: caught; the base never had it, so alone it sees only a new field.
    expect(statuses.map((status) => status === 0)).toEqual([false, true]);
  });

  it("checks since the merge base with origin/main when the branch has one", { timeout: 120_000 }, () => {
    const dir = copyContract();
    writeFileSync(join(dir, ".gitignore"), ".buf-deps\n*.binpb\n");
    git(dir, "init", "-q", "-b", "main");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "base");
    edit(dir, moneyProto, "message Money {", "message Money {\n  string note = 7;");
    git(dir, "commit", "-q", "-am", "on main");
    const mainHead = git(dir, "rev-parse", "HEAD");
    git(dir, "update-ref", "refs/remotes/origin/main", mainHead);
    edit(dir, moneyProto, "string note = 7;", "string note = 8;");
    git(dir, "commit", "-q", "-am", "branch: renumber");
    edit(dir, moneyProto, "string note = 8;", "string note = 9;");
    git(dir, "commit", "-q", "-am", "branch: again");

    const { why, commits } = breakingBaselines(dir);
    expect(why).toMatch(/merge base with origin\/main/);
    // The branch's own commits and main's, not the base main had already moved past.
    expect(commits).toEqual([git(dir, "rev-parse", "HEAD~1"), mainHead]);
  });
});
