import { z } from "zod";
import { filterShape, refineFilters, ticketStatuses, toTicketFilters } from "../analytics/filters.ts";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../http/errors.ts";
import { parseInput, queryObject } from "../http/params.ts";
import type { Route } from "../http/router.ts";
import type { SqlRunner } from "../sql-runner.ts";
import { callIdSchema } from "../tickets.ts";
import { applyStatusChange } from "./status-change.ts";
import {
  queueTicketUpdatedQuery,
  updateAssignmentQuery,
  workOrderPageQuery,
  workOrderQuery,
  type WorkOrderRow,
} from "./queries.ts";

const BASE = "/api/work-orders/v1/tickets";

const listSchema = z
  .object({
    ...filterShape,
    limit: z.coerce
      .number({ invalid_type_error: "must be a whole number from 1 to 500" })
      .int("must be a whole number from 1 to 500")
      .min(1, "must be a whole number from 1 to 500")
      .max(500, "must be a whole number from 1 to 500")
      .default(50),
    offset: z.coerce
      .number({ invalid_type_error: "must be a whole number from 0 to 100000" })
      .int("must be a whole number from 0 to 100000")
      .min(0, "must be a whole number from 0 to 100000")
      .max(100_000, "must be a whole number from 0 to 100000")
      .default(0),
  })
  .strict()
  .superRefine((v, ctx) => refineFilters(v, ctx));

const assignee = z
  .string()
  .trim()
  .min(1, "must not be empty; send null to unassign")
  .max(200, "is at most 200 characters")
  .regex(/^[^\p{Cc}]*$/u, "cannot contain control characters");

const changeSchema = z
  .object(
    {
      status: z
        .enum(ticketStatuses, {
          errorMap: () => ({ message: `must be one of ${ticketStatuses.join(", ")}` }),
        })
        .optional(),
      assignee: assignee.nullable().optional(),
      /** The version the client last read; the update is refused when the ticket changed since. */
      version: z
        .number({ invalid_type_error: "must be the ticket's version as last fetched, a whole number" })
        .int("must be the ticket's version as last fetched, a whole number")
        .min(1, "must be the ticket's version as last fetched, a whole number")
        .optional(),
    },
    { invalid_type_error: "must be a JSON object" },
  )
  .strict()
  .refine((v) => v.status !== undefined || v.assignee !== undefined, {
    message: "send status, assignee or both",
  });

/** The REST API the hotline's work-order system uses, with its own token. */
export function workOrderRoutes(db: SqlRunner): Route[] {
  const ticketId = (params: Record<string, string>) => parseInput(callIdSchema, params.id, "ticket id");

  return [
    {
      method: "GET",
      path: BASE,
      access: "workOrder",
      handle: async ({ query }) => {
        const p = parseInput(listSchema, queryObject(query), "query");
        const rows = await db.rows<WorkOrderRow>(workOrderPageQuery(toTicketFilters(p), p.limit, p.offset));
        const more = rows.length > p.limit;
        return { json: { tickets: rows.slice(0, p.limit), nextOffset: more ? p.offset + p.limit : null } };
      },
    },
    {
      method: "GET",
      path: `${BASE}/:id`,
      access: "workOrder",
      handle: async ({ params }) => {
        const callId = ticketId(params);
        const [row] = await db.rows<WorkOrderRow>(workOrderQuery(callId));
        if (row === undefined) throw new NotFoundError(`no ticket for call ${callId}`);
        return { json: row };
      },
    },
    {
      method: "PATCH",
      path: `${BASE}/:id`,
      access: "workOrder",
      handle: async ({ params, body }) => {
        const callId = ticketId(params);
        if (body === undefined)
          throw new InvalidArgumentError("send a JSON body with status and/or assignee");
        const change = parseInput(changeSchema, body, "status change");
        const updated = await db.transaction(async (tx) => {
          const [current] = await tx.rows<WorkOrderRow>(workOrderQuery(callId, { forUpdate: true }));
          if (current === undefined) throw new NotFoundError(`no ticket for call ${callId}`);
          if (change.version !== undefined && change.version !== current.version) {
            throw new FailedPreconditionError(
              `the ticket changed since version ${change.version} (it is at version ${current.version}); fetch it again and retry`,
            );
          }
          const outcome = applyStatusChange(current, change);
          if (outcome.kind === "invalid") throw new InvalidArgumentError(outcome.reason);
          if (outcome.kind === "conflict") throw new FailedPreconditionError(outcome.reason);
          await tx.rows(updateAssignmentQuery(callId, outcome.next, outcome.statusChanged));
          const [after] = await tx.rows<WorkOrderRow>(workOrderQuery(callId));
          await tx.rows(queueTicketUpdatedQuery(after!));
          return after!;
        });
        return { json: updated };
      },
    },
  ];
}
