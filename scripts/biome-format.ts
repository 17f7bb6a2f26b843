import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The repository's root, whose biome.json applies. */
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * A generated file's text formatted as `biome check` expects it, so that a generator's output
 * passes the lint as written.
 */
export function biomeFormat(path: string, text: string): string {
  const biome = createRequire(import.meta.url).resolve("@biomejs/biome/bin/biome");
  return execFileSync(process.execPath, [biome, "format", `--stdin-file-path=${path}`], {
    cwd: ROOT,
    input: text,
    encoding: "utf8",
  });
}
