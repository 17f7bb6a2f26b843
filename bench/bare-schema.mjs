// The bare route's request schema: six plain fields, the seed's payload and a phone.
import { z } from "zod";

export const bareSchema = z.object({
  to: z.email(),
  phone: z.string().optional(),
  asset: z.string(),
  amount: z.number().positive(),
  quantity: z.number().positive(),
  order: z.string(),
});
