import type { z } from "zod";

/** bare-schema.mjs' schema, typed for the TypeScript that imports it. */
export declare const bareSchema: z.ZodType<{
  to: string;
  phone?: string | undefined;
  asset: string;
  amount: number;
  quantity: number;
  order: string;
}>;
