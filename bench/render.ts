/** `tsx bench/render.ts`: rewrites BENCHMARKS.md from BENCHMARKS.json (after editing the analysis). */
import { readFileSync, writeFileSync } from "node:fs";
import { renderReport } from "./report.js";

writeFileSync("BENCHMARKS.md", renderReport(JSON.parse(readFileSync("BENCHMARKS.json", "utf8"))));
