#!/usr/bin/env node
// `npm run build -w cli`: bundles src/index.ts and everything it imports (the SDK, the contracts from gen/, commander,
// connect, protobuf) into one plain ESM file, dist/shop.js, so `shop` starts without compiling TypeScript and the
// packed package needs nothing from the registry. Also runs as `prepare`, so `npm ci` in a checkout builds it.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const cliDir = fileURLToPath(new URL("..", import.meta.url));
const distDir = join(cliDir, "dist");
/** The bundle; bin/shop.js runs it. */
export const bundlePath = join(distDir, "shop.js");
/** Every file the bundle was built from, so a checkout can tell when the bundle is older than its sources. */
export const inputsPath = join(distDir, "shop.inputs.json");
const noticesPath = join(distDir, "THIRD-PARTY-NOTICES.txt");

// commander is CommonJS and requires node builtins; an ESM bundle has no `require` unless it makes one.
const banner = [
  'import { createRequire as shopCreateRequire } from "node:module";',
  "const require = shopCreateRequire(import.meta.url);",
].join("\n");

/**
 * Every generated file of the contract lists buf/validate/validate.proto as a dependency, and importing its generated
 * module decodes a 50 KB descriptor at start: a third of the CPU time the CLI spent starting beyond Node's own when
 * measured (180 → 147 ms for `shop --help`; Node alone 78 ms). The CLI never reads validation rules (the services
 * enforce them), so the bundle gets a stand-in that declares the file and nothing in it. It exports only
 * `file_buf_validate_validate`: code that imported anything else from it would fail this build, not run wrong.
 */
async function validationRulesStandIn() {
  const { create, toBinary } = await import("@bufbuild/protobuf");
  const { FileDescriptorProtoSchema } = await import("@bufbuild/protobuf/wkt");
  const { base64Encode } = await import("@bufbuild/protobuf/wire");
  const empty = create(FileDescriptorProtoSchema, { name: "buf/validate/validate.proto", package: "buf.validate" });
  const descriptor = base64Encode(toBinary(FileDescriptorProtoSchema, empty), "std_raw");
  const contents = [
    'import { fileDesc } from "@bufbuild/protobuf/codegenv2";',
    `export const file_buf_validate_validate = fileDesc(${JSON.stringify(descriptor)});`,
  ].join("\n");
  return {
    name: "validation-rules-stand-in",
    setup(build) {
      build.onResolve({ filter: /^@bufbuild\/protovalidate\/gen\/buf\/validate\/validate_pb\.js$/ }, () => ({
        path: "buf/validate/validate_pb.js",
        namespace: "stand-in",
      }));
      build.onLoad({ filter: /.*/, namespace: "stand-in" }, () => ({ contents, loader: "js", resolveDir: cliDir }));
    },
  };
}

/** Writes next to the target and renames, so a `shop` started meanwhile never reads half a file. */
async function writeAtomically(path, contents) {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

/** The licence texts of the packages inside the bundle, which their licences ask to ship with copies of them. */
async function thirdPartyNotices(inputs) {
  const packageDirs = new Set();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packageDirs.add(match[1]);
  }
  const sections = [];
  for (const dir of [...packageDirs].sort()) {
    const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    let text = "";
    for (const name of ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE"]) {
      text = await readFile(join(dir, name), "utf8").catch(() => "");
      if (text) break;
    }
    const repository = manifest.repository?.url ?? manifest.repository ?? manifest.homepage ?? "its npm page";
    const body =
      text.trim() || `The package ships no licence file; its licence is ${manifest.license}, see ${repository}.`;
    sections.push(`${manifest.name}@${manifest.version} (${manifest.license})\n\n${body}`);
  }
  return `dist/shop.js bundles the following packages.\n\n${sections.join(`\n\n${"-".repeat(80)}\n\n`)}\n`;
}

/**
 * Builds dist/shop.js and returns its size in bytes. `minify` (default true) is off only to read a profile;
 * `logLevel` (default "warning") is "silent" when bin/shop.js rebuilds and falls back to tsx on its own.
 */
export async function buildCli({ minify = true, logLevel = "warning" } = {}) {
  const esbuild = await import("esbuild");
  const startedAt = Date.now();
  const result = await esbuild.build({
    absWorkingDir: cliDir,
    entryPoints: ["src/index.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify,
    legalComments: "none",
    banner: { js: banner },
    // The root tsconfig's `paths` send @shop/sdk to its TypeScript sources, as for tsc and tsx: the bundle matches the
    // checkout without building the SDK first.
    tsconfig: join(cliDir, "..", "tsconfig.json"),
    plugins: [await validationRulesStandIn()],
    metafile: true,
    write: false,
    outfile: bundlePath,
    logLevel,
  });
  await mkdir(distDir, { recursive: true });
  // Files only (the stand-in lives in its own namespace, "stand-in:…"), plus this script: new options are a change.
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !/^[\w-]+:/.test(input))
    .map((input) => join(cliDir, input))
    .concat(fileURLToPath(import.meta.url));
  const [bundle] = result.outputFiles;
  const bundled = Object.entries(Object.values(result.metafile.outputs)[0].inputs)
    .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
    .map(([input]) => input);
  await writeAtomically(noticesPath, await thirdPartyNotices(bundled.map((input) => join(cliDir, input))));
  // A source saved after the build started is newer than `builtAt`, so the next start in a checkout rebuilds.
  const record = { builtAt: startedAt, inputs: inputs.map((input) => relative(distDir, input)) };
  await writeAtomically(inputsPath, `${JSON.stringify(record)}\n`);
  await writeAtomically(bundlePath, bundle.contents);
  return bundle.contents.byteLength;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `--prepare` (npm's `prepare`): an install must not fail for want of the bundle (the Dockerfile installs before it
  // copies gen/src), since a checkout's `shop` builds it on first run or runs the sources. Packing must not go on
  // without it.
  const optional = process.argv.includes("--prepare") && !["pack", "publish"].includes(process.env.npm_command ?? "");
  const started = performance.now();
  try {
    const bytes = await buildCli({ logLevel: optional ? "silent" : "warning" });
    const ms = Math.round(performance.now() - started);
    console.log(`built ${relative(cliDir, bundlePath)} (${Math.round(bytes / 1024)} KiB) in ${ms} ms`);
  } catch (err) {
    if (!optional) throw err;
    const reason = err.errors?.[0]?.text ?? err.message;
    console.warn(`skipped building dist/shop.js (${reason}); shop builds it when it first runs`);
  }
}
