/**
 * `npm run build`: each process as one bundled ES module, dist/gateway.mjs and dist/worker.mjs
 * (esbuild). A bundled process reads one file at start instead of resolving and reading the
 * hundreds of modules under node_modules that zod, hono, BullMQ, ioredis and prom-client are
 * made of: on Fly the gateway scales to zero and every wake pays that start.
 * What only some requests or settings need (the tracing SDK, Bull Board, Scalar, the resend
 * SDK's webhook verifier) is imported dynamically and becomes a chunk of its own in
 * dist/<process>-chunks/, read on first use; the twilio SDK, left in node_modules (EXTERNAL), is
 * imported by the gateway on first use too.
 */
import { rmSync } from "node:fs";
import { basename } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Metafile } from "esbuild";
import { UNBUNDLED_PROVIDER_SDKS } from "../channels/unbundled-sdks.js";

/** Each process's bundle and the source it is built from. */
export const BUNDLES = {
  "dist/gateway.mjs": "gateway/server.ts",
  "dist/worker.mjs": "worker/index.ts",
} as const;

/**
 * Left to node_modules at run time: packages that find their own files on disk (Bull Board's UI,
 * Scalar's browser script, pino's worker-thread transports); the provider SDKs a bundled copy
 * would break (channels/unbundled-sdks.ts); and an optional native add-on that msgpackr tries to
 * load and does without.
 */
const EXTERNAL = [
  "@bull-board/*",
  "@scalar/api-reference",
  "pino",
  "pino-pretty",
  ...UNBUNDLED_PROVIDER_SDKS,
  "msgpackr-extract",
];

/**
 * What the bundles would hold, without writing them: esbuild's metafile (inputs, and each
 * output's imports, packages left external included).
 */
export async function bundleMetafile(): Promise<Metafile> {
  const { metafile } = await build({
    entryPoints: Object.values(BUNDLES),
    bundle: true,
    write: false,
    metafile: true,
    outdir: "dist",
    format: "esm",
    platform: "node",
    packages: "external",
    logLevel: "silent",
  });
  return metafile;
}

/** The source folders the bundles are built from (the Dockerfile copies each). */
export async function bundledSourceFolders(): Promise<string[]> {
  const metafile = await bundleMetafile();
  return [...new Set(Object.keys(metafile.inputs).map((file) => file.split("/")[0] ?? ""))].sort();
}

/**
 * Bundles one entry `source` into `<outdir>/<name>.mjs`, its lazy imports into
 * `<outdir>/<name>-chunks/`.
 */
export async function bundleEntry(source: string, outdir: string, name: string): Promise<void> {
  await build({
    entryPoints: [source],
    outdir,
    entryNames: name,
    chunkNames: `${name}-chunks/[name]-[hash]`,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20.12",
    external: EXTERNAL,
    // CommonJS packages in an ES module bundle still call require() for Node's built-ins.
    banner: {
      js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);',
    },
    // The source text stays in memory for the process's life, and one comment with a character
    // outside Latin-1 (esbuild keeps some comments; it escapes everything else to ASCII) makes
    // V8 hold all of it at two bytes a character: without whitespace and comments the worker's
    // text goes from 7.5 MB to 2.8 MB (RSS idle about 118 → 109 MiB). Names are kept, so stack
    // traces still read; the linked source map gives source lines.
    minifyWhitespace: true,
    // Short lines all the same: Node prints the line an uncaught error was thrown on.
    lineLimit: 160,
    sourcemap: "linked",
    legalComments: "linked",
    logLevel: "warning",
  });
}

/**
 * Builds the bundles into `outdir` (dist by default), emptying it first. One build per process,
 * so each entry holds all it needs at start; its lazy imports go to `<name>-chunks/`.
 */
export async function bundle(outdir = "dist"): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await Promise.all(
    Object.entries(BUNDLES).map(([out, source]) =>
      bundleEntry(source, outdir, basename(out, ".mjs")),
    ),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await bundle();
