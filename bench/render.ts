/** `tsx bench/render.ts`: rewrites BENCHMARKS.md from BENCHMARKS.json (after editing the analysis). */
import { readFileSync } from "node:fs";
import { writeReport } from "./report.js";

writeReport("BENCHMARKS.md", JSON.parse(readFileSync("BENCHMARKS.json", "utf8")));
