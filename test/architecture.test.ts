/**
 * The layout's rules, read from the sources' imports: no import cycles, and the gateway and the
 * worker share only contract/ and lib/ (and what both import from there).
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

/** Every TypeScript source file git tracks, tests and generated files aside. */
const SOURCES = execFileSync("git", ["ls-files", "*.ts"], { encoding: "utf8" })
  .split("\n")
  .filter((file) => file && !file.endsWith(".test.ts") && !file.endsWith(".d.ts"));

/** Each file's relative imports (static and dynamic), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found = [...text.matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)];
  return found.map(([, path = ""]) => normalize(join(dirname(file), path)).replace(/\.js$/, ".ts"));
}

const GRAPH = new Map(SOURCES.map((file) => [file, importsOf(file)]));

function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") {
      found.push([...path.slice(path.indexOf(file)), file]);
      return;
    }
    state.set(file, "visiting");
    path.push(file);
    for (const next of GRAPH.get(file) ?? []) if (GRAPH.has(next)) visit(next);
    path.pop();
    state.set(file, "done");
  };
  for (const file of GRAPH.keys()) visit(file);
  return found;
}

describe("the layout", () => {
  it("has no import cycles", () => {
    expect(cycles()).toEqual([]);
  });

  it("keeps the worker out of the gateway's imports, and the gateway out of the worker's", () => {
    const crossing = [...GRAPH].flatMap(([file, imports]) =>
      imports
        .filter(
          (target) =>
            (file.startsWith("gateway/") && target.startsWith("worker/")) ||
            (file.startsWith("worker/") && target.startsWith("gateway/")),
        )
        .map((target) => `${file} -> ${target}`),
    );
    expect(crossing).toEqual([]);
  });
});
